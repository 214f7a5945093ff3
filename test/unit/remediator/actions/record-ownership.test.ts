import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { findHostOllamaServers, recordCurrentOwnership } from '../../../../remediator/actions/record-ownership.js';
import { TargetHistory } from '../../../../remediator/state/target-history.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { FAKE_BOOT_ID, FakeProc } from '../../../helpers/fake-proc.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const TARGET = '5'.repeat(64);
const compose: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};
const host: OllamaTargetConfig = { name: 'local', url: 'http://127.0.0.1:2', headers: {} };
const serve = { comm: 'ollama', ppid: 1, argv: ['/usr/bin/ollama', 'serve'], exe: '/usr/bin/ollama' };

async function setUp(t: TestContext, dockerUp = true) {
  const proc = await FakeProc.create();
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-history-'));
  const engine = await startFakeDockerEngine((r) => {
    if (!dockerUp) return { status: 500, json: { message: 'daemon broken' } };
    if (r.path === '/containers/json') {
      const labels = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };
      return { status: 200, json: [{ Id: TARGET, Names: ['/ai-ollama-1'], Labels: labels }] };
    }
    if (r.path === `/containers/${TARGET}/json`) {
      const state = { Running: true, Pid: 100, StartedAt: '2026-01-01T00:00:00Z', Status: 'running' };
      return { status: 200, json: { Id: TARGET, Name: '/ai-ollama-1', Config: { Labels: {} }, State: state } };
    }
    return undefined;
  });
  t.after(async () => {
    await engine.close();
    await proc.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  const warnings: string[] = [];
  const history = await TargetHistory.open(dir, [compose, host], {
    now: () => 1_000,
    warn: (_f, m) => void warnings.push(m),
  });
  const deps = testDeps(engine.docker, { procRoot: proc.root, history });
  return { proc, history, deps, warnings };
}

test("start-up records the containers each target has now, and the host target's one server", async (t) => {
  const { proc, history, deps } = await setUp(t);
  await proc.add(300, { ...serve, startTime: 3000, nsPids: [300] });
  await recordCurrentOwnership([compose, host], deps);
  assert.deepEqual(
    history.containerOwners(TARGET).map((o) => o.target),
    ['main'],
  );
  assert.deepEqual(history.hostServers('local'), [{ pid: 300, startTime: 3000, bootId: FAKE_BOOT_ID }]);
});

test('two host servers, or one in LXC only: nothing is recorded for the host target', async (t) => {
  const { proc, history, deps } = await setUp(t);
  await proc.add(300, { ...serve, startTime: 3000, nsPids: [300] });
  await proc.add(301, { ...serve, startTime: 3010, nsPids: [301] });
  await recordCurrentOwnership([host], deps);
  assert.deepEqual(history.hostServers('local'), []);

  await proc.remove(301);
  await proc.add(302, { ...serve, startTime: 3020, nsPids: [302, 1], cgroup: '0::/lxc.payload.x/ollama.service\n' });
  assert.deepEqual(
    (await findHostOllamaServers(proc.root)).map((s) => s.pid),
    [300],
    'the LXC server is not a host server',
  );
});

test('Docker failing at start-up is logged, not thrown; nothing is recorded', async (t) => {
  const { history, deps } = await setUp(t, false);
  const logged: string[] = [];
  await recordCurrentOwnership([compose], {
    ...deps,
    log: { ...deps.log, warn: (_o: unknown, m: string) => void logged.push(m) } as typeof deps.log,
  });
  assert.deepEqual(history.containerOwners(TARGET), []);
  assert.match(logged.join('\n'), /start-up: cannot record what the target owns/);
});
