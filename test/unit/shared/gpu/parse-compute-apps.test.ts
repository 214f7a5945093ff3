import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseComputeApps } from '../../../../shared/gpu/parse-compute-apps.js';
import { NvidiaSmiError } from '../../../../shared/gpu/run-nvidia-smi.js';
import { captureCells, fixture } from '../../../helpers/gpu-fixture.js';

// The captures were taken with this order (see their README); the collector asks for gpu_uuid first.
const CAPTURE_FIELDS = ['pid', 'process_name', 'used_gpu_memory', 'gpu_uuid'];

test('compute-apps-busy.csv (with units): one python3 process', () => {
  const apps = parseComputeApps(fixture('compute-apps-busy.csv'), CAPTURE_FIELDS);
  const cells = captureCells('compute-apps-busy.csv').rows[0]!;
  assert.deepEqual(apps, [
    { gpuUuid: cells[3], pid: Number(cells[0]), processName: cells[1], usedMemoryBytes: 4458 * 1048576 },
  ]);
});

test('compute-apps-idle.csv: header only = no process', () => {
  assert.deepEqual(parseComputeApps(fixture('compute-apps-idle.csv'), CAPTURE_FIELDS), []);
});

test('compute-apps-nounits-runner.csv: the Ollama runner path', () => {
  const [app, ...rest] = parseComputeApps(fixture('compute-apps-nounits-runner.csv'), CAPTURE_FIELDS);
  assert.equal(rest.length, 0);
  assert.equal(app!.pid, 420);
  assert.equal(app!.processName, '/tmp/fake/usr/bin/ollama');
  assert.equal(app!.usedMemoryBytes, 3738 * 1048576);
  assert.equal(app!.gpuUuid, 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694');
});

test('names with commas and spaces are parsed outside-in, in the default field order', () => {
  const out =
    'gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n' +
    'GPU-a, 7, /opt/my app/bin/server, v2, --flag, 12\n' +
    'GPU-b, 8, python3, [N/A]\n';
  assert.deepEqual(parseComputeApps(out), [
    { gpuUuid: 'GPU-a', pid: 7, processName: '/opt/my app/bin/server, v2, --flag', usedMemoryBytes: 12 * 1048576 },
    { gpuUuid: 'GPU-b', pid: 8, processName: 'python3', usedMemoryBytes: undefined },
  ]);
});

test('empty output (noheader, no process) and a mismatched header', () => {
  assert.deepEqual(parseComputeApps(''), []);
  assert.throws(
    () => parseComputeApps('pid, gpu_uuid, process_name, used_gpu_memory [MiB]\n'),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'parse',
  );
});
