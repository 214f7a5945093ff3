import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NvidiaSmiError } from '../../../shared/gpu/run-nvidia-smi.js';
import { listGpus, parseGpuList } from '../../sim/list-gpus.js';
import { fakeRun, fixture } from '../../helpers/gpu-fixture.js';

const CFG = { nvidia_smi: '/opt/nv/nvidia-smi', timeout_ms: 1234 };
const signal = new AbortController().signal;

test('list.txt: the H100 with its uuid', () => {
  assert.deepEqual(parseGpuList(fixture('list.txt')), {
    gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694', migUuids: [] }],
    unreachable: [],
  });
});

test('MIG children and a lost GPU', () => {
  const out = [
    'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaa)',
    '  MIG 1g.5gb      Device  0: (UUID: MIG-bbbb)',
    'Unable to determine the device handle for gpu 0000:86:00.0: GPU is lost.  Reboot the system to recover this GPU',
    'GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-cccc)',
  ].join('\n');
  const list = parseGpuList(out);
  assert.deepEqual(
    list.gpus.map((g) => [g.index, g.uuid, g.migUuids]),
    [
      [0, 'GPU-aaaa', ['MIG-bbbb']],
      [2, 'GPU-cccc', []],
    ],
  );
  assert.deepEqual(
    list.unreachable.map((u) => [u.pciBusId, u.lost]),
    [['0000:86:00.0', true]],
  );
});

test('listGpus parses -L, keeps a lost GPU as data, and fails only when nothing was listed', async () => {
  const { run, calls } = fakeRun(() => ({ stdout: fixture('list.txt'), stderr: '', exitCode: 0 }));
  const list = await listGpus(CFG, { signal, run });
  assert.deepEqual(calls[0]!.args, ['-L']);
  assert.equal(list.gpus[0]!.uuid, 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694');

  const lost =
    'Unable to determine the device handle for GPU 0000:00:06.0: GPU is lost.  Reboot the system to recover this GPU\n';
  const partial = await listGpus(CFG, { signal, run: fakeRun(() => ({ stdout: lost, stderr: '', exitCode: 15 })).run });
  assert.deepEqual(
    partial.unreachable.map((u) => u.lost),
    [true],
  );

  await assert.rejects(
    listGpus(CFG, { signal, run: fakeRun(() => ({ stdout: 'No devices were found\n', stderr: '', exitCode: 6 })).run }),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'no_devices',
  );
});
