import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoTime, parseGoDuration } from '../../sim/go-duration.js';
import { normalizeSimModelName } from '../../sim/model-catalogue.js';
import { parseKeepAlive } from '../../sim/ollama-sim.js';

test('Go durations parse like time.ParseDuration, with its error texts', () => {
  assert.equal(parseGoDuration('5m'), 300_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('-1m'), -60_000);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('3600'), { message: 'time: missing unit in duration "3600"' });
  assert.throws(() => parseGoDuration('-1'), { message: 'time: missing unit in duration "-1"' });
  assert.throws(() => parseGoDuration('5x'), /unknown unit "x"/);
  assert.throws(() => parseGoDuration(''), /invalid duration/);
});

test('keep_alive: numbers are seconds, negatives mean forever, unitless strings are a 400', () => {
  assert.equal(parseKeepAlive(undefined), undefined);
  assert.equal(parseKeepAlive(3600), 3_600_000);
  assert.equal(parseKeepAlive(0), 0);
  assert.equal(parseKeepAlive(-1), Infinity);
  assert.equal(parseKeepAlive('-1m'), Infinity);
  assert.equal(parseKeepAlive('10m'), 600_000);
  assert.throws(
    () => parseKeepAlive('3600'),
    (e: { status?: number }) => e.status === 400,
  );
});

test('times format like Go RFC3339Nano in UTC (trailing zeros trimmed)', () => {
  const d = new Date(Date.UTC(2026, 10, 22, 11, 26, 35, 120));
  assert.equal(formatGoTime(d), '2026-11-22T11:26:35.12Z');
  assert.equal(formatGoTime(d, 3400), '2026-11-22T11:26:35.1200034Z');
  assert.equal(formatGoTime(new Date(Date.UTC(2026, 0, 1))), '2026-01-01T00:00:00Z');
});

test('model names normalise like Ollama: tag defaults to latest, registry prefixes dropped', () => {
  assert.equal(normalizeSimModelName('llama3'), 'llama3:latest');
  assert.equal(normalizeSimModelName('Llama3:Latest'), 'Llama3:Latest', 'the case is kept (compared with EqualFold)');
  assert.equal(normalizeSimModelName('llama3@sha256:' + 'a'.repeat(64)), undefined);
  assert.equal(normalizeSimModelName('registry.ollama.ai/library/gpt-oss:20b'), 'gpt-oss:20b');
  assert.equal(normalizeSimModelName('user/model'), 'user/model:latest');
  assert.equal(normalizeSimModelName(''), undefined);
  assert.equal(normalizeSimModelName('bad name'), undefined);
  assert.equal(normalizeSimModelName(42), undefined);
});
