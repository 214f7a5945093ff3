import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { prepareOllamaExecutableDir } from '../../sim/prepare-ollama-executable-dir.js';
import {
  runnerKindForVersion,
  simRunnerArgs,
  spawnDiscoveryProcesses,
  spawnSimRunner,
  type RunnerKind,
  type SimRunnerProcess,
} from '../../sim/sim-runner.js';
import { findFreePort } from '../../helpers/find-free-port.js';
import { repoPath } from '../../helpers/repo-path.js';

const KINDS: RunnerKind[] = ['ollama-runner', 'llama-server'];

// One prepared folder for the whole file (preparing is cheap, but the runners spawned from it are what is tested).
const ROOT = mkdtempSync(join(tmpdir(), 'sim-runner-test-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const DIR = prepareOllamaExecutableDir(join(ROOT, 'bin')).dir;

async function runner(t: TestContext, kind: RunnerKind, extra: { parallel?: number; numGpuLayers?: number } = {}) {
  const dir = DIR;
  const r = await spawnSimRunner({
    runnerKind: kind,
    executableDir: dir,
    modelPath: join(dir, 'blobs', 'sha256-' + 'a'.repeat(64)),
    port: await findFreePort(),
    parallel: extra.parallel ?? 1,
    numCtx: 4096,
    ...(extra.numGpuLayers !== undefined ? { numGpuLayers: extra.numGpuLayers } : {}),
  });
  t.after(async () => {
    r.kill('SIGKILL');
    await r.exited;
  });
  return { dir, r };
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
/** utime + stime in clock ticks (1/100 s). */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const rchar = (pid: number) => Number(/rchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
/** Alive and not a zombie (an orphan's zombie stays until some init reaps it). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

test('runnerKindForVersion: llama-server from 0.30 on', () => {
  assert.equal(runnerKindForVersion('0.12.6'), 'ollama-runner');
  assert.equal(runnerKindForVersion('0.29.9'), 'ollama-runner');
  assert.equal(runnerKindForVersion('0.30.0'), 'llama-server');
  assert.equal(runnerKindForVersion('0.33.0-rc2'), 'llama-server');
  assert.equal(runnerKindForVersion('1.0.0'), 'llama-server');
});

test('0.33 runner: /proc/<pid>/exe is <dir>/lib/ollama/llama-server, argv as llm/llama_server.go builds it', async (t) => {
  const { dir, r } = await runner(t, 'llama-server', { parallel: 2, numGpuLayers: 0 });
  const exe = join(dir, 'lib', 'ollama', 'llama-server');
  assert.equal(readlinkSync(`/proc/${r.pid}/exe`), exe);
  assert.equal(readFileSync(`/proc/${r.pid}/comm`, 'utf8').trim(), 'llama-server');
  assert.deepEqual(cmdline(r.pid), r.argv);
  const port = String(r.argv[r.argv.indexOf('--port') + 1]);
  assert.deepEqual(r.argv.slice(0, 2), [exe, '--model']);
  assert.deepEqual(r.argv.slice(3, 12), [
    '--port',
    port,
    '--host',
    '127.0.0.1',
    '--no-webui',
    '--offline',
    '-c',
    '8192', // num_ctx × parallel
    '-np',
  ]);
  assert.equal(r.argv[12], '2');
  assert.deepEqual(r.argv.slice(r.argv.indexOf('-ngl'), r.argv.indexOf('-ngl') + 2), ['-ngl', '0']);
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 503, 'llama-server answers 503 "Loading model" while loading');
  assert.equal(await r.setActivity('idle'), true);
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
});

test('argv: -ngl only when num_gpu was set; the 0.12 runner keeps `runner --model B --port N`', () => {
  const base = { executableDir: '/x', modelPath: '/m', port: 5, parallel: 1, numCtx: 2048 };
  assert.ok(!simRunnerArgs({ ...base, runnerKind: 'llama-server' }).includes('-ngl'));
  assert.deepEqual(simRunnerArgs({ ...base, runnerKind: 'ollama-runner' }), ['runner', '--model', '/m', '--port', '5']);
});

test('0.12 runner: /proc/<pid>/exe is <dir>/ollama, argv `ollama runner --model B --port N`', async (t) => {
  const { dir, r } = await runner(t, 'ollama-runner');
  assert.equal(readlinkSync(`/proc/${r.pid}/exe`), join(dir, 'ollama'));
  assert.deepEqual(cmdline(r.pid), r.argv);
  assert.deepEqual(r.argv.slice(0, 3), [join(dir, 'ollama'), 'runner', '--model']);
});

for (const kind of KINDS) {
  test(`${kind}: CPU time rises while generating/spinning, stays flat while idle/hung; loading grows RSS and reads`, async (t) => {
    const { r } = await runner(t, kind);
    // Loading (the initial activity): RSS grows in 4 MiB steps and read() calls add to rchar.
    const rss0 = rssKiB(r.pid);
    const read0 = rchar(r.pid);
    await waitFor('RSS +8 MiB while loading', () => rssKiB(r.pid) - rss0 >= 8 * 1024);
    await waitFor('rchar +2 MiB while loading', () => rchar(r.pid) - read0 >= 2 << 20);

    for (const busy of ['generating', 'spinning'] as const) {
      await r.setActivity(busy);
      const c0 = cpuTicks(r.pid);
      await waitFor(`CPU time rises while ${busy}`, () => cpuTicks(r.pid) - c0 >= 6);
    }
    for (const quiet of ['idle', 'hung'] as const) {
      await r.setActivity(quiet);
      await sleep(120); // a tick in progress may still finish its burn
      const c0 = cpuTicks(r.pid);
      const rss1 = rssKiB(r.pid);
      await sleep(500);
      assert.ok(cpuTicks(r.pid) - c0 <= 2, `CPU time flat while ${quiet}`);
      assert.ok(Math.abs(rssKiB(r.pid) - rss1) < 2048, `RSS flat while ${quiet}`);
    }
  });
}

test('both runner kinds exit on SIGTERM and when their parent dies', async (t) => {
  for (const kind of KINDS) {
    const { r } = await runner(t, kind);
    r.kill('SIGTERM');
    await r.exited;
    assert.equal(running(r.pid), false, `${kind} exits on SIGTERM`);
  }
  // A parent that spawns one runner of each kind and is then SIGKILLed (no chance to clean up).
  const dir = DIR;
  const ports = [await findFreePort(), await findFreePort()];
  const script = `import(${JSON.stringify(repoPath('dist', 'test', 'sim', 'sim-runner.js'))}).then(async (m) => {
    const spawnOne = (runnerKind, port) => m.spawnSimRunner({ runnerKind, executableDir: ${JSON.stringify(dir)},
      modelPath: '/nonexistent', port, parallel: 1, numCtx: 2048 });
    const rs = await Promise.all([spawnOne('ollama-runner', ${ports[0]}), spawnOne('llama-server', ${ports[1]})]);
    process.stdout.write(rs.map((r) => r.pid).join(' ') + '\\n');
    setInterval(() => {}, 1000);
  });`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => parent.kill('SIGKILL'));
  const pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim().split(' ').map(Number));
    });
    parent.once('exit', () => reject(new Error('parent exited early')));
  });
  assert.equal(pids.length, 2);
  assert.ok(pids.every(running));
  parent.kill('SIGKILL');
  await waitFor('runners gone after their parent died', () => !pids.some(running), 3000);
});

test('discovery processes: the 0.33 forms and `ollama runner` without --model (0.12), gone after durationMs', async (t) => {
  const dir = DIR;
  const v33 = await spawnDiscoveryProcesses({ runnerKind: 'llama-server', executableDir: dir, durationMs: 600 });
  const v12 = await spawnDiscoveryProcesses({ runnerKind: 'ollama-runner', executableDir: dir, durationMs: 600 });
  t.after(() => {
    v33.kill();
    v12.kill();
  });
  const started = Date.now();
  const lib = join(dir, 'lib', 'ollama');
  assert.equal(v33.pids.length, 3);
  const seen = v33.pids.map((pid) => ({ exe: readlinkSync(`/proc/${pid}/exe`), argv: cmdline(pid) }));
  assert.equal(seen[0]!.exe, join(lib, 'llama-server'));
  assert.deepEqual(seen[0]!.argv.slice(3), ['--host', '127.0.0.1', '--no-webui', '--offline', '--verbose']);
  assert.equal(seen[0]!.argv[1], '--port');
  assert.deepEqual(seen[1]!.argv, [join(lib, 'llama-server'), '--list-devices', '--offline', '--verbose']);
  assert.equal(seen[2]!.exe, join(dir, 'ollama'));
  assert.deepEqual(seen[2]!.argv, [
    join(dir, 'ollama'),
    'gpu-discover',
    '--lib-dir',
    lib,
    '--lib-dir',
    join(lib, 'cuda_v13'),
  ]);
  for (const s of seen) assert.ok(!s.argv.includes('--model'), 'discovery never has --model');
  const [pid12] = v12.pids;
  assert.deepEqual(cmdline(pid12!).slice(0, 4), [join(dir, 'ollama'), 'runner', '--ollama-engine', '--port']);
  assert.equal(readlinkSync(`/proc/${pid12}/exe`), join(dir, 'ollama'));

  await Promise.all([v33.exited, v12.exited]);
  const took = Date.now() - started;
  assert.ok(took >= 400, `lived about durationMs (${took} ms)`);
  assert.ok(took < 4000, `exited after durationMs (${took} ms)`);
  for (const pid of [...v33.pids, ...v12.pids]) assert.equal(alive(pid), false);
});

test('setActivity calls apply in order; on a gone runner they resolve false', async (t) => {
  const { r } = await runner(t, 'llama-server');
  const calls = [r.setActivity('generating'), r.setActivity('hung'), r.setActivity('idle')];
  assert.equal(r.activity, 'idle');
  assert.deepEqual(await Promise.all(calls), [true, true, true]);
  r.kill();
  await r.exited;
  assert.equal(await r.setActivity('generating'), false);
  const gone: SimRunnerProcess = r;
  assert.equal(gone.activity, 'generating');
});
