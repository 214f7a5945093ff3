import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes } from '../../../../shared/provision/format-bytes.js';

test('decimal units with three significant digits, as Ollama prints sizes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.00 KB');
  assert.equal(formatBytes(397_821_319), '398 MB');
  assert.equal(formatBytes(13_780_173_724), '13.8 GB');
  assert.equal(formatBytes(4_661_224_676), '4.66 GB');
  assert.equal(formatBytes(142_487_462_542), '142 GB');
  assert.equal(formatBytes(2.5e15), '2500 TB');
});

test('a value just under the next unit rounds into that unit rather than printing 1000', () => {
  assert.equal(formatBytes(999_600), '1.00 MB');
});

test('nonsense input prints a question mark instead of NaN', () => {
  assert.equal(formatBytes(Number.NaN), '?');
  assert.equal(formatBytes(-1), '?');
});
