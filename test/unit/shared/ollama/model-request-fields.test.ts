import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepAliveJson, modelRequestFields } from '../../../../shared/ollama/model-request-fields.js';
import type { ModelConfig } from '../../../../shared/config/types.js';

test('numbers are seconds and pass through unchanged', () => {
  for (const n of [-1, 0, 3600, 1.5]) assert.equal(keepAliveJson(n), n);
  assert.throws(() => keepAliveJson(Number.NaN), /finite/);
});

test('Go duration strings pass, unitless strings are refused with a hint', () => {
  for (const s of ['10m', '24h', '-1m', '1h30m', '1.5h', '0', '500ms', '-1s']) assert.equal(keepAliveJson(s), s);
  assert.throws(() => keepAliveJson('3600'), /needs a unit.*"3600s".*number 3600/);
  assert.throws(() => keepAliveJson('-1'), /needs a unit/);
  for (const bad of ['', 'forever', '10 m', '10d', 'm'])
    assert.throws(() => keepAliveJson(bad), /not a valid duration/, bad);
});

test('modelRequestFields sends the configured name, keep_alive and options exactly', () => {
  const model: ModelConfig = {
    name: 'gpt-oss:20b',
    keep_alive: -1,
    keep_warm: true,
    min_vram_ratio: 1,
    options: { num_ctx: 8192, num_batch: 512, use_mmap: false },
    targets: [],
  };
  const fields = modelRequestFields(model);
  assert.deepEqual(fields, {
    model: 'gpt-oss:20b',
    keep_alive: -1,
    options: { num_ctx: 8192, num_batch: 512, use_mmap: false },
  });
  assert.notEqual(fields.options, model.options, 'a copy, so callers adding num_predict cannot change the config');
  assert.throws(() => modelRequestFields({ ...model, keep_alive: '3600' }), /needs a unit/);
});
