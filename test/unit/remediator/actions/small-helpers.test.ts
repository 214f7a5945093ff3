import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallLog, errorText } from '../../../../remediator/actions/call-log.js';
import { classifyGpuList } from '../../../../remediator/actions/check-container-gpu-access.js';
import { isOutOfSequence } from '../../../../remediator/actions/force-update-service.js';
import { hasHostPidView } from '../../../../remediator/actions/has-host-pid-view.js';

test('classifyGpuList: listed GPU, NVML failure, anything else', () => {
  const listed = 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-f88d2996-314d-4abe-0c94-acc6aa417694)\n';
  assert.equal(classifyGpuList(0, listed), true);
  assert.equal(classifyGpuList(255, 'Failed to initialize NVML: Unknown Error\n'), false);
  assert.equal(
    classifyGpuList(0, 'Failed to initialize NVML: Unknown Error\n'),
    false,
    'the text wins over the exit code',
  );
  assert.equal(classifyGpuList(127, 'sh: nvidia-smi: not found'), null);
  assert.equal(classifyGpuList(6, 'No devices were found'), null);
  assert.equal(classifyGpuList(null, ''), null);
  assert.equal(classifyGpuList(0, ''), null, 'exit 0 without a GPU line proves nothing');
});

test('hasHostPidView: initial PID namespace, kthreadd fallback, a container /proc, nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sentinel-pidns-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const host = join(root, 'host');
  const container = join(root, 'container');
  const hostNoPtrace = join(root, 'host-no-ptrace');
  const containerNoPtrace = join(root, 'container-no-ptrace');
  for (const dir of [host, container]) await mkdir(join(dir, '1', 'ns'), { recursive: true });
  await symlink('pid:[4026531836]', join(host, '1', 'ns', 'pid'));
  await symlink('pid:[4026532301]', join(container, '1', 'ns', 'pid'));
  // ns links unreadable (no ptrace rights over PID 1): only PID 2's stat to go by
  const stat = (comm: string, ppid: number) =>
    `2 (${comm}) S ${ppid} 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0\n`;
  for (const [dir, text] of [
    [hostNoPtrace, stat('kthreadd', 0)],
    [containerNoPtrace, stat('node', 1)],
  ] as const) {
    await mkdir(join(dir, '2'), { recursive: true });
    await writeFile(join(dir, '2', 'stat'), text);
  }
  // procfs `self` names our own PID only in our PID namespace
  for (const dir of [host, container, hostNoPtrace, containerNoPtrace])
    await symlink(String(process.pid), join(dir, 'self'));
  const foreign = join(root, 'host-proc-in-a-container');
  await mkdir(join(foreign, '1', 'ns'), { recursive: true });
  await symlink('pid:[4026531836]', join(foreign, '1', 'ns', 'pid'));
  await symlink(String(process.pid + 100_000), join(foreign, 'self'));
  const wrongNs = await hasHostPidView(foreign);
  assert.equal(wrongNs.ok, false, 'a host /proc seen from another PID namespace: signals would hit other processes');
  assert.match(wrongNs.reason, /another PID namespace/);

  assert.equal((await hasHostPidView(host)).ok, true);
  const inner = await hasHostPidView(container);
  assert.equal(inner.ok, false);
  assert.match(inner.reason, /not the host's \/proc/);
  const viaKthreadd = await hasHostPidView(hostNoPtrace);
  assert.equal(viaKthreadd.ok, true);
  assert.match(viaKthreadd.reason, /kthreadd/);
  const innerNoPtrace = await hasHostPidView(containerNoPtrace);
  assert.equal(innerNoPtrace.ok, false);
  assert.match(innerNoPtrace.reason, /not kthreadd/);
  const missing = await hasHostPidView(join(root, 'nothing'));
  assert.equal(missing.ok, false);
  assert.match(missing.reason, /ENOENT/);
});

test('CallLog: reads always recorded, writes prefixed "would" and refused in dry-run', () => {
  const real = new CallLog(false);
  real.read('GET /x');
  assert.equal(real.write('POST /y'), true);
  assert.deepEqual(real.calls, ['GET /x', 'POST /y']);
  const dry = new CallLog(true);
  dry.read('GET /x');
  assert.equal(dry.write('POST /y'), false);
  assert.deepEqual(dry.calls, ['GET /x', 'would POST /y']);
});

test('isOutOfSequence / errorText read the daemon message dockerode attaches', () => {
  const err = Object.assign(
    new Error('(HTTP code 500) server error - rpc error: code = Unknown desc = update out of sequence'),
    {
      statusCode: 500,
      json: { message: 'rpc error: code = Unknown desc = update out of sequence' },
    },
  );
  assert.equal(isOutOfSequence(err), true);
  assert.equal(errorText(err), 'HTTP 500: rpc error: code = Unknown desc = update out of sequence');
  assert.equal(isOutOfSequence(Object.assign(new Error('no such service'), { statusCode: 404 })), false);
  assert.equal(errorText('plain'), 'plain');
});
