import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcIo } from '../../../../shared/proc/parse-proc-io.js';
import { repoPath } from '../../../helpers/repo-path.js';

test('parseProcIo: a file captured from a node process', () => {
  const io = parseProcIo(readFileSync(repoPath('test/fixtures/proc/node-io.txt'), 'utf8'));
  assert.deepEqual(io, { rchar: 251546, readBytes: 0 });
});

test('parseProcIo: this process, from the real /proc', () => {
  const io = parseProcIo(readFileSync('/proc/self/io', 'utf8'));
  assert.ok(io.rchar > 0, 'node has read its own files');
  assert.ok(io.readBytes >= 0);
});

test('parseProcIo: missing counters throw', () => {
  assert.throws(() => parseProcIo(''), /unparsable/);
  assert.throws(() => parseProcIo('rchar: 12\nwchar: 3\n'), /unparsable/);
});
