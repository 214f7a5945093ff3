import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGpuList } from '../../../../shared/gpu/parse-gpu-list.js';
import { fixture } from './fixture.js';

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
  assert.deepEqual(list.gpus.map((g) => [g.index, g.uuid, g.migUuids]), [[0, 'GPU-aaaa', ['MIG-bbbb']], [2, 'GPU-cccc', []]]);
  assert.deepEqual(list.unreachable.map((u) => [u.pciBusId, u.lost]), [['0000:86:00.0', true]]);
});
