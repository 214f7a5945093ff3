import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyNvidiaSmiFailure,
  NvidiaSmiError,
  runNvidiaSmi,
  splitCommand,
} from '../../../../shared/gpu/run-nvidia-smi.js';
import { parseProcStat } from '../../../../shared/proc/parse-proc-stat.js';
import { alive } from '../../../../shared/proc/read-process-identity.js';
import { fixture } from '../../../helpers/gpu-fixture.js';

let dir: string;

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * Running, not merely a zombie waiting for an init that may never reap it (as in some sandboxes): alive() counts a
 * zombie as alive, so the state letter is checked too.
 */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state !== 'Z';
  } catch {
    return false;
  }
}

const opts = (timeoutMs = 5000) => ({ signal: new AbortController().signal, timeoutMs, graceMs: 200 });

before(() => {
  // A space in the folder name proves that a path with spaces is run as one file.
  dir = mkdtempSync(join(tmpdir(), 'sentinel gpu '));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('returns stdout and exit 0, passing the args', async () => {
  const smi = script('ok', 'printf "%s|" "$@"');
  const r = await runNvidiaSmi(smi, ['--query-gpu=index,uuid', '--format=csv,nounits'], opts());
  assert.deepEqual(r, { stdout: '--query-gpu=index,uuid|--format=csv,nounits|', stderr: '', exitCode: 0 });
});

test('a non-zero exit is returned, with the error text nvidia-smi prints on stdout', async () => {
  const text = fixture('unknown-field.out').split('\n\nrc=')[0]!;
  const out = join(dir, 'unknown-field.txt');
  writeFileSync(out, text);
  const smi = script('bad-field', `cat "${out}"; exit 2`);
  const r = await runNvidiaSmi(smi, [], opts());
  assert.equal(r.exitCode, 2);
  assert.equal(r.stdout, text);
});

test('exit 255 and stderr are passed through', async () => {
  const smi = script('e255', 'echo oops >&2; exit 255');
  const r = await runNvidiaSmi(smi, [], opts());
  assert.equal(r.exitCode, 255);
  assert.equal(r.stderr, 'oops\n');
});

test('a wrapper command with its own arguments (and quotes) works', async () => {
  const smi = script('inner', 'printf "%s," "$@"');
  const r = await runNvidiaSmi(`/bin/sh "${smi}" --id=0`, ['-L'], opts());
  assert.equal(r.stdout, '--id=0,-L,');
});

test('a missing command is spawn_failed', async () => {
  await assert.rejects(
    runNvidiaSmi(join(dir, 'no-such-nvidia-smi'), [], opts()),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'spawn_failed',
  );
});

test('a hang that ignores SIGTERM is killed at the timeout, with its whole process group', async () => {
  const pidFile = join(dir, 'hang.pid');
  // The child `sleep` is a grandchild of ours: it must die too or it would keep our pipes open.
  const smi = script('hang', `trap '' TERM\nsleep 30 &\necho $! > "${pidFile}"\nwait`);
  const started = Date.now();
  await assert.rejects(
    runNvidiaSmi(smi, [], opts(300)),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'timeout',
  );
  const took = Date.now() - started;
  assert.ok(took >= 300 && took < 3000, `took ${took} ms`);
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  // SIGKILL to the group follows the grace (200 ms); give it a moment.
  for (let i = 0; i < 50 && running(sleeper); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(running(sleeper), false);
});

test('the caller signal aborts a run', async () => {
  const smi = script('slow', 'exec sleep 30');
  const ac = new AbortController();
  const run = runNvidiaSmi(smi, [], { signal: ac.signal, timeoutMs: 10_000, graceMs: 200 });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(run, (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'aborted');
});

test('an already aborted signal starts nothing', async () => {
  const marker = join(dir, 'ran');
  const smi = script('marker', `touch "${marker}"`);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    runNvidiaSmi(smi, [], { signal: ac.signal, timeoutMs: 1000 }),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'aborted',
  );
  assert.equal(existsSync(marker), false);
});

const noFile = () => false;

test('an existing file is used whole, spaces and all', () => {
  assert.deepEqual(
    splitCommand('/opt/my tools/nvidia-smi', (p) => p === '/opt/my tools/nvidia-smi'),
    ['/opt/my tools/nvidia-smi'],
  );
});

test('wrappers split like shell words, without a shell', () => {
  assert.deepEqual(splitCommand('sudo -n nvidia-smi', noFile), ['sudo', '-n', 'nvidia-smi']);
  assert.deepEqual(splitCommand('"/opt/my tools/smi" --id=0', noFile), ['/opt/my tools/smi', '--id=0']);
  assert.deepEqual(splitCommand("ssh gpu1 'nvidia-smi'", noFile), ['ssh', 'gpu1', 'nvidia-smi']);
  assert.deepEqual(splitCommand('/opt/my\\ tools/smi $HOME', noFile), ['/opt/my tools/smi', '$HOME']);
  assert.deepEqual(splitCommand('nvidia-smi', noFile), ['nvidia-smi']);
});

test('broken quoting and empty commands are refused', () => {
  assert.throws(() => splitCommand('"/opt/x', noFile), /unterminated/);
  assert.throws(() => splitCommand('   ', noFile), /empty/);
});

test('unknown-field.out (real, exit 2): bad_field', () => {
  const out = fixture('unknown-field.out');
  const rc = Number(/rc=(\d+)/.exec(out)![1]);
  assert.equal(rc, 2);
  assert.equal(classifyNvidiaSmiFailure(rc, out), 'bad_field');
});

test('messages win over exit codes', () => {
  const cases: [number, string, string][] = [
    [
      18,
      'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n',
      'version_mismatch',
    ],
    [255, 'Failed to initialize NVML: Driver/library version mismatch\n', 'version_mismatch'],
    [255, 'Failed to initialize NVML: Unknown Error\n', 'nvml_init_failed'],
    [
      12,
      "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\n",
      'nvml_library_missing',
    ],
    [
      15,
      'Unable to determine the device handle for GPU0000:65:00.0: GPU is lost.  Reboot the system to recover this GPU\n',
      'gpu_lost',
    ],
    [255, 'Unable to determine the device handle for GPU0000:65:00.0: Unknown Error\n', 'device_unreachable'],
    [
      9,
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      'driver_not_loaded',
    ],
    [6, 'No devices were found\n', 'no_devices'],
  ];
  for (const [code, text, reason] of cases) assert.equal(classifyNvidiaSmiFailure(code, text), reason, text);
});

test('documented exit codes without a known message', () => {
  const cases: [number, string][] = [
    [2, 'invalid_argument'],
    [3, 'not_supported'],
    [4, 'no_permission'],
    [6, 'not_found'],
    [8, 'insufficient_power'],
    [9, 'driver_not_loaded'],
    [12, 'nvml_library_missing'],
    [14, 'inforom_corrupted'],
    [15, 'gpu_lost'],
    [18, 'version_mismatch'],
    [255, 'exit_255'],
    [1, 'exit_1'],
  ];
  for (const [code, reason] of cases)
    assert.equal(classifyNvidiaSmiFailure(code, 'something odd'), reason, String(code));
});
