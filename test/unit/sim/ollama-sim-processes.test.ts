import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { post, withSim } from '../../helpers/with-sim.js';

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
const ppid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('0.33 profile: a loaded model runs as <dir>/lib/ollama/llama-server --model B ..., a child of the server', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0', models: ['llama3'] });
  assert.equal((await post(sim, '/api/generate', { model: 'llama3', options: { num_gpu: 0 } })).status, 200);
  const [runner] = (await sim.control.state()).runners;
  assert.ok(runner?.pid);
  const exe = join(sim.executableDir, 'lib', 'ollama', 'llama-server');
  assert.equal(readlinkSync(`/proc/${runner.pid}/exe`), exe);
  assert.equal(ppid(runner.pid), process.pid);
  const argv = cmdline(runner.pid);
  assert.deepEqual(argv, runner.argv);
  assert.deepEqual(argv.slice(0, 2), [exe, '--model']);
  assert.match(argv[2]!, /\/blobs\/sha256-[0-9a-f]{64}$/);
  const after = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.equal(after('--port'), String(runner.port));
  assert.equal(after('--host'), '127.0.0.1');
  assert.equal(after('-np'), '1', 'OLLAMA_NUM_PARALLEL defaults to 1');
  assert.equal(after('-c'), String(runner.numCtx), '-c is num_ctx × slots (one slot here)');
  assert.equal(after('-ngl'), '0', 'num_gpu 0 = CPU on purpose');
  assert.equal((await fetch(`http://127.0.0.1:${runner.port}/health`)).status, 200, 'loaded: not "Loading model"');
});

test('0.33 profile: runDiscovery spawns the discovery processes under the server; they exit after durationMs', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0', models: ['llama3'] });
  const { discoveryPids } = await sim.control.runDiscovery(400);
  assert.equal(discoveryPids.length, 3);
  const argvs = discoveryPids.map(cmdline);
  for (const pid of discoveryPids) assert.equal(ppid(pid), process.pid);
  assert.deepEqual(
    argvs.map((a) => a.slice(1, 2)),
    [['--port'], ['--list-devices'], ['gpu-discover']],
  );
  for (const a of argvs) assert.ok(!a.includes('--model'));
  await waitFor('discovery processes exit', () => discoveryPids.every((pid) => !alive(pid)));
});

test('0.12 profile: discovery is `ollama runner --ollama-engine --port N` (no --model)', async (t) => {
  const { sim } = await withSim(t, { version: '0.12.6' });
  const { discoveryPids } = await sim.control.runDiscovery(300);
  assert.equal(discoveryPids.length, 1);
  const argv = cmdline(discoveryPids[0]!);
  assert.deepEqual(argv.slice(0, 4), [join(sim.executableDir, 'ollama'), 'runner', '--ollama-engine', '--port']);
  await waitFor('discovery process exits', () => !alive(discoveryPids[0]!));
});

test('close stops discovery processes still running', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0' });
  const { discoveryPids } = await sim.control.runDiscovery(60_000);
  await sim.close();
  for (const pid of discoveryPids) assert.equal(alive(pid), false);
});
