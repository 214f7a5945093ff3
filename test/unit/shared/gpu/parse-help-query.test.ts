import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHelpQuery } from '../../../../shared/gpu/parse-help-query.js';
import { GPU_QUERY_FIELDS } from '../../../../shared/gpu/gpu-query-fields.js';
import { fixture } from '../../../helpers/gpu-fixture.js';

test('help-query-gpu: every quoted entry name and alias is accepted', () => {
  const text = fixture('help-query-gpu.txt');
  const catalog = parseHelpQuery(text);
  const entryLines = text.split('\n').filter((l) => /^"[^"]+"( or "[^"]+")*$/.test(l.trim()));
  const expected = new Set(entryLines.flatMap((l) => [...l.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)));
  assert.deepEqual(catalog.accepted, expected);
  assert.ok(catalog.accepted.size > 200, `only ${catalog.accepted.size} fields`);
});

test('help-query-gpu: aliases map to the entry first name, which nvidia-smi prints as the header', () => {
  const catalog = parseHelpQuery(fixture('help-query-gpu.txt'));
  assert.equal(catalog.canonical.get('clocks.sm'), 'clocks.current.sm');
  assert.equal(catalog.canonical.get('clocks.current.sm'), 'clocks.current.sm');
  assert.equal(catalog.canonical.get('clocks.mem'), 'clocks.current.memory');
  assert.equal(catalog.canonical.get('gpu_uuid'), 'uuid');
  assert.equal(catalog.canonical.get('clocks_throttle_reasons.active'), 'clocks_event_reasons.active');
});

test('help-query-gpu: description lines are not fields', () => {
  const catalog = parseHelpQuery(fixture('help-query-gpu.txt'));
  // compute_mode's description quotes its values ("0: Default" means ...): not a field name.
  assert.equal(
    [...catalog.accepted].some((n) => /\s/.test(n)),
    false,
  );
  assert.equal(catalog.accepted.has('no.such.field'), false);
});

test('every field the GPU collector wants exists on the captured H100 driver', () => {
  const catalog = parseHelpQuery(fixture('help-query-gpu.txt'));
  const missing = GPU_QUERY_FIELDS.filter((f) => !catalog.accepted.has(f));
  assert.deepEqual(missing, []);
});

test('help-query-compute-apps: names and aliases', () => {
  const catalog = parseHelpQuery(fixture('help-query-compute-apps.txt'));
  for (const f of ['gpu_uuid', 'pid', 'process_name', 'name', 'used_gpu_memory', 'used_memory']) {
    assert.ok(catalog.accepted.has(f), f);
  }
  assert.equal(catalog.canonical.get('used_memory'), 'used_gpu_memory');
  assert.equal(catalog.canonical.get('name'), 'process_name');
});

test('empty or unrelated text gives an empty catalog', () => {
  assert.equal(parseHelpQuery('').accepted.size, 0);
  assert.equal(parseHelpQuery('Failed to initialize NVML: Unknown Error\n').accepted.size, 0);
});
