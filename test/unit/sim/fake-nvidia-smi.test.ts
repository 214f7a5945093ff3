import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultFixturesDir,
  fakeNvidiaSmi,
  MSG_NO_LIBRARY,
  MSG_UNKNOWN_ERROR,
  type FakeSmiContext,
} from '../../sim/fake-nvidia-smi.js';
import { defaultH100Gpu, defaultH100State, updateGpuState, writeGpuState, type GpuState } from '../../sim/gpu-state.js';

const fixtures = defaultFixturesDir();
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const bin = fileURLToPath(new URL('../../../../test/sim/bin/nvidia-smi', import.meta.url));
const ctx: FakeSmiContext = { fixturesDir: fixtures, inContainer: false, now: new Date() };

const Q =
  'index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,pstate';
const Q2 =
  'index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,memory.free,memory.reserved,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,pstate,ecc.errors.uncorrected.volatile.total,clocks_event_reasons.active,mig.mode.current,compute_mode';
const APPS = 'pid,process_name,used_gpu_memory,gpu_uuid';

/** State of the first capture set's card (GPU-07717aa1...), idle. */
function firstCardIdle(): GpuState {
  const s = defaultH100State();
  const g = defaultH100Gpu(0, 'GPU-07717aa1-347b-2202-ede2-e4a46b3b8fe6', '00000000:00:06.0');
  Object.assign(g, { temperatureC: 52, powerDrawW: 136.9, smClockMHz: 1980 });
  s.gpus = [g];
  return s;
}

/** Second set's card, busy with the Ollama-like runner of compute-apps-nounits-runner.csv. */
function secondCardBusy(): GpuState {
  const s = defaultH100State();
  Object.assign(s.gpus[0]!, {
    memoryOtherUsedMiB: 9,
    utilizationGpuPct: 100,
    utilizationMemoryPct: 3,
    temperatureC: 57,
    powerDrawW: 623.9,
    smClockMHz: 1980,
    clocksEventReasons: 0,
  });
  s.procs.push({ gpuUuid: s.gpus[0]!.uuid, pid: 420, usedMiB: 3738, name: '/tmp/fake/usr/bin/ollama' });
  return s;
}

function withoutRcLine(text: string): string {
  return text.replace(/rc=\d+\n$/, '');
}

test('--query-gpu with units reproduces the real idle capture', () => {
  const r = fakeNvidiaSmi([`--query-gpu=${Q}`, '--format=csv'], firstCardIdle(), ctx);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, fixture('query-gpu-idle.csv'));
});

test('--query-gpu nounits reproduces the real $Q2 captures (idle exactly, busy up to MiB rounding of free)', () => {
  const idle = fakeNvidiaSmi([`--query-gpu=${Q2}`, '--format=csv,nounits'], defaultH100State(), ctx);
  assert.equal(idle.stdout, fixture('query-gpu-nounits-idle.csv'));
  const busy = fakeNvidiaSmi([`--query-gpu=${Q2}`, '--format=csv,nounits'], secondCardBusy(), ctx).stdout.split('\n');
  const real = fixture('query-gpu-nounits-busy.csv').split('\n');
  assert.equal(busy[0], real[0]);
  const [mine, theirs] = [busy[1]!.split(', '), real[1]!.split(', ')];
  const freeCol = real[0]!.split(', ').indexOf('memory.free [MiB]');
  assert.ok(Math.abs(Number(mine[freeCol]) - Number(theirs[freeCol])) <= 1);
  mine.splice(freeCol, 1);
  theirs.splice(freeCol, 1);
  assert.deepEqual(mine, theirs);
});

test('noheader drops the header; aliases come back under their canonical column names', () => {
  const r = fakeNvidiaSmi(
    ['--query-gpu=gpu_name,clocks.sm,clocks_throttle_reasons.hw_slowdown', '--format=csv,noheader'],
    defaultH100State(),
    ctx,
  );
  assert.equal(r.stdout, 'NVIDIA H100 80GB HBM3, 345 MHz, Not Active\n');
  const h = fakeNvidiaSmi(
    ['--query-gpu=gpu_name,clocks.sm,power.limit,enforced.power.limit,pstate,memory.reserved', '--format=csv'],
    defaultH100State(),
    ctx,
  );
  assert.equal(
    h.stdout.split('\n')[0],
    'name, clocks.current.sm [MHz], power.limit [W], enforced.power.limit [W], pstate, memory.reserved [MiB]',
  );
});

test('health fields follow the state: ECC, event reasons bitmask and flags', () => {
  const s = defaultH100State();
  Object.assign(s.gpus[0]!, { eccUncorrectedVolatileTotal: 2, clocksEventReasons: 0x48 });
  const r = fakeNvidiaSmi(
    [
      '--query-gpu=ecc.errors.uncorrected.volatile.total,clocks_event_reasons.active,clocks_event_reasons.hw_slowdown,clocks_event_reasons.hw_thermal_slowdown,clocks_event_reasons.gpu_idle',
      '--format=csv,noheader',
    ],
    s,
    ctx,
  );
  assert.equal(r.stdout, '2, 0x0000000000000048, Active, Active, Not Active\n');
});

test('--query-compute-apps: real busy/idle/runner shapes', () => {
  const s = firstCardIdle();
  assert.equal(
    fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv'], s, ctx).stdout,
    fixture('compute-apps-idle.csv'),
  );
  assert.equal(fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv,noheader'], s, ctx).stdout, '');
  s.procs.push({ gpuUuid: s.gpus[0]!.uuid, pid: 412, usedMiB: 4458, name: 'python3' });
  assert.equal(
    fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv'], s, ctx).stdout,
    fixture('compute-apps-busy.csv'),
  );
  assert.equal(
    fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv,nounits'], secondCardBusy(), ctx).stdout,
    fixture('compute-apps-nounits-runner.csv'),
  );
});

test('-L, help texts and an unknown field match the captures', () => {
  assert.equal(fakeNvidiaSmi(['-L'], defaultH100State(), ctx).stdout, fixture('list.txt'));
  assert.equal(fakeNvidiaSmi(['--help-query-gpu'], defaultH100State(), ctx).stdout, fixture('help-query-gpu.txt'));
  assert.equal(
    fakeNvidiaSmi(['--help-query-compute-apps'], defaultH100State(), ctx).stdout,
    fixture('help-query-compute-apps.txt'),
  );
  const bad = fakeNvidiaSmi(['--query-gpu=index,no.such.field', '--format=csv,nounits'], defaultH100State(), ctx);
  assert.equal(bad.exitCode, 2);
  assert.equal(bad.stdout, withoutRcLine(fixture('unknown-field.out')));
});

test('every fault kind gives its exit code and message, only for its target', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['bad-field', 2, /^Field "index" is not a valid field to query\.\n\n$/],
    ['no-library', 12, /couldn't find libnvidia-ml\.so/],
    ['no-driver', 9, /couldn't communicate with the NVIDIA driver/],
    ['gpu-lost', 15, /^Unable to determine the device handle for GPU 0000:00:06\.0: GPU is lost\./],
    ['unknown-error', 255, /^Failed to initialize NVML: Unknown Error\n$/],
    ['version-mismatch', 18, /^Failed to initialize NVML: Driver\/library version mismatch\n/],
  ];
  for (const [kind, code, msg] of cases) {
    const s = defaultH100State();
    s.faults.push({ target: 'gpu', kind: kind as never });
    const r = fakeNvidiaSmi(['--query-gpu=index,uuid', '--format=csv'], s, ctx);
    assert.equal(r.exitCode, code, kind);
    assert.match(r.stdout, msg, kind);
    assert.equal(
      fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv'], s, ctx).exitCode,
      0,
      `${kind} must not hit apps`,
    );
  }
  const s = defaultH100State();
  s.faults.push({ target: 'all', kind: 'exit', arg: '3 custom failure' }, { target: 'apps', kind: 'delay', arg: '40' });
  const r = fakeNvidiaSmi([`--query-compute-apps=${APPS}`, '--format=csv'], s, ctx);
  assert.deepEqual([r.exitCode, r.stdout, r.delayMs], [3, 'custom failure\n', 40]);
  assert.equal(fakeNvidiaSmi(['-L'], s, ctx).delayMs, 0);
});

test('a lost GPU and the in-container NVML loss print the real-style errors', () => {
  const s = defaultH100State();
  s.gpus.push(defaultH100Gpu(1, 'GPU-11111111-2222-3333-4444-555555555555', '00000000:00:07.0'));
  s.gpus[1]!.lost = true;
  const q = fakeNvidiaSmi(['--query-gpu=index,uuid', '--format=csv,noheader'], s, ctx);
  assert.equal(q.exitCode, 15);
  assert.equal(
    q.stdout,
    `0, ${s.gpus[0]!.uuid}\nUnable to determine the device handle for GPU 0000:00:07.0: GPU is lost.  Reboot the system to recover this GPU\n`,
  );
  s.gpus[1]!.lost = false;
  s.containerNvmlLost = true;
  assert.equal(fakeNvidiaSmi(['-L'], s, ctx).exitCode, 0, 'the host view still works');
  const inside = fakeNvidiaSmi(['-L'], s, { ...ctx, inContainer: true });
  assert.deepEqual([inside.exitCode, inside.stdout], [255, MSG_UNKNOWN_ERROR]);
});

function tempState(t: { after: (fn: () => void) => void }, state: GpuState): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-smi-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gpu.state');
  writeGpuState(file, state);
  return file;
}

function runBin(args: string[], file: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, SENTINEL_FAKE_GPU_STATE: file } }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout });
    });
  });
}

test('the executable reads the state file on every run, so a test can flip faults while a poller runs', async (t) => {
  const file = tempState(t, defaultH100State());
  assert.deepEqual(await runBin(['-L'], file), { code: 0, stdout: fixture('list.txt') });
  await updateGpuState(file, (s) => {
    s.faults.push({ target: 'all', kind: 'no-library' });
  });
  assert.deepEqual(await runBin(['-L'], file), { code: 12, stdout: MSG_NO_LIBRARY });
  await updateGpuState(file, (s) => {
    s.faults = [{ target: 'gpu', kind: 'delay', arg: '300' }];
  });
  const t0 = Date.now();
  const r = await runBin(['--query-gpu=index', '--format=csv,noheader'], file);
  assert.deepEqual(r, { code: 0, stdout: '0\n' });
  assert.ok(Date.now() - t0 >= 300);
});

test('hang: the run never answers until killed', async (t) => {
  const s = defaultH100State();
  s.faults.push({ target: 'gpu', kind: 'hang' });
  const file = tempState(t, s);
  const child = spawn(bin, ['--query-gpu=index', '--format=csv'], {
    env: { ...process.env, SENTINEL_FAKE_GPU_STATE: file },
  });
  const closed = new Promise<string | null>((r) => child.on('close', (_code, signal) => r(signal)));
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  const early = await Promise.race([
    closed.then(() => 'closed'),
    new Promise((r) => setTimeout(() => r('running'), 300)),
  ]);
  assert.equal(early, 'running');
  child.kill('SIGKILL');
  assert.equal(await closed, 'SIGKILL');
  assert.equal(output, '');
});

test('stuck: after SIGKILL the pipes stay open until the fault is cleared', async (t) => {
  const s = defaultH100State();
  s.faults.push({ target: 'gpu', kind: 'stuck', arg: '10000' });
  const file = tempState(t, s);
  const child = spawn(bin, ['--query-gpu=index', '--format=csv'], {
    env: { ...process.env, SENTINEL_FAKE_GPU_STATE: file },
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const closed = new Promise<number>((r) => child.on('close', () => r(Date.now())));
  t.after(() => {
    void updateGpuState(file, (st) => {
      st.faults = [];
    }).catch(() => {});
  });
  // Kill only once node has started and left its grandchild behind (a fixed sleep flakes on a loaded machine).
  // The wrapper script's own subshells are children too: wait until it has exec'd node.
  const children = () => {
    try {
      // exe, not comm: Node 24 renames its main thread "MainThread"
      if (basename(readlinkSync(`/proc/${child.pid}/exe`)) !== 'node') return '';
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  for (let i = 0; i < 200 && children() === ''; i++) await new Promise((r) => setTimeout(r, 50));
  assert.notEqual(children(), '', 'the fake nvidia-smi started its grandchild within 10 s');
  child.kill('SIGKILL');
  const early = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 400))]);
  assert.equal(exited, true, 'the child itself is dead');
  assert.equal(early, 'open', 'stdout is still held by the stuck grandchild');
  const cleared = Date.now();
  await updateGpuState(file, (st) => {
    st.faults = [];
  });
  const closedAt = await closed;
  assert.ok(closedAt - cleared < 2000, 'the grandchild lets go soon after the fault is cleared');
});
