// The whole remediator (startRemediator: webhook, journal, engine, real actions) against a fake Docker Engine on a
// unix socket that says which Swarm node it is: only this node's alerts are healed, another node's are recorded,
// audited and answered 200 without one mutating Docker call.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readAuditLog } from '../../../../deploy/demo/chain-observers.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { REREAD_MIN_MS } from '../../../../remediator/node/own-node-watch.js';
import { startRemediator, type RunningRemediator } from '../../../../remediator/wiring/start-remediator.js';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import {
  startFakeDockerEngine,
  type EngineRequest,
  type FakeDockerEngine,
} from '../../../helpers/fake-docker-engine.js';
import { FakePorts } from '../../../helpers/engine-harness.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb2';
const C = 'cccccccccccccccccccccccc3';
const TOKEN = 'node-scope-token';
const CID = 'c'.repeat(64);

/** One Docker Engine: its Swarm identity (changeable) and the target's Compose container, restartable. */
function engineWorld() {
  const world = {
    info: { NodeID: A, LocalNodeState: 'active' } as { NodeID: string; LocalNodeState: string } | 'down',
    startedAt: '2026-12-01T10:00:00.000000001Z',
    restarts: 0,
  };
  const labels = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };
  const route = (r: EngineRequest) => {
    if (r.method === 'GET' && r.path.endsWith('/info')) {
      if (world.info === 'down') return { status: 500, json: { message: 'daemon busy' } };
      return { status: 200, json: { Name: 'gpu-a', Swarm: { ...world.info, ControlAvailable: false } } };
    }
    if (r.method === 'GET' && r.path.endsWith('/containers/json'))
      return { status: 200, json: [{ Id: CID, Names: ['/ai-ollama-1'], Labels: labels, State: 'running' }] };
    if (r.method === 'GET' && r.path.endsWith(`/containers/${CID}/json`))
      return {
        status: 200,
        json: {
          Id: CID,
          Name: '/ai-ollama-1',
          Image: 'sha256:1',
          Config: { Image: 'ollama/ollama', Labels: labels },
          State: { Running: true, Status: 'running', StartedAt: world.startedAt, Pid: 4321 },
        },
      };
    if (r.method === 'POST' && r.path.endsWith(`/containers/${CID}/restart`)) {
      world.restarts++;
      world.startedAt = `2026-12-01T10:00:0${world.restarts}.000000001Z`;
      return { status: 204 };
    }
    return undefined;
  };
  return { world, route };
}

interface Run {
  readonly engine: FakeDockerEngine;
  readonly world: ReturnType<typeof engineWorld>['world'];
  readonly remediator: RunningRemediator;
  readonly clock: FakeClock;
  readonly dataDir: string;
  post(fingerprint: string, labels: Record<string, string>): Promise<Response>;
  audit(): Promise<Record<string, unknown>[]>;
  metrics(): Promise<string>;
  /** Requests to the Engine other than GET (restart, stop, kill...). */
  mutations(): string[];
  close(): Promise<void>;
}

async function start(setup: (world: ReturnType<typeof engineWorld>['world']) => void = () => undefined): Promise<Run> {
  const t = await tempDir('node-scope');
  const { world, route } = engineWorld();
  setup(world);
  const engine = await startFakeDockerEngine(route);
  await writeFile(join(t.dir, 'token'), TOKEN);
  const { all } = loadRemediatorConfig(`
ollama:
  - {name: main, url: "http://127.0.0.1:1", container: {compose: {project: ai, service: ollama}}}
models:
  - {name: llama3, keep_warm: true}
docker:
  host: unix://${engine.socketPath}
remediator:
  listen_address: 127.0.0.1:0
  bearer_token_file: ${join(t.dir, 'token')}
  data_dir: ${join(t.dir, 'data')}
  cooldown: 0s
  rules:
    - {name: gpu, match: {alertname: OllamaGpuAccessLost}}
`);
  const clock = new FakeClock(Date.parse('2026-12-01T12:00:00Z'));
  const ports = new FakePorts();
  ports.now = () => clock.now();
  ports.obs = (target) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target });
  const remediator = await startRemediator(all, createLogger('silent'), {
    version: 'test',
    clock,
    // The real restart_container with the real action dependencies (this Docker, this node's identity).
    ports: ({ actionDeps }) => {
      ports.step = (req) => runAction(req, { ...actionDeps, sleep: () => new Promise((r) => setTimeout(r, 5)) });
      return ports;
    },
  });
  const dataDir = join(t.dir, 'data');
  const auth = { authorization: `Bearer ${TOKEN}` };
  return {
    engine,
    world,
    remediator,
    clock,
    dataDir,
    async post(fingerprint, labels) {
      const res = await fetch(`${remediator.url}/webhook`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          receiver: 'node',
          status: 'firing',
          groupKey: 'g',
          truncatedAlerts: 0,
          externalURL: 'http://am',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'OllamaGpuAccessLost', ollama: 'main', ...labels },
              annotations: {},
              startsAt: new Date(clock.now() - 1000).toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: '',
              fingerprint,
            },
          ],
        }),
      });
      await remediator.engine.idle();
      return res;
    },
    async audit() {
      await remediator.engine.idle();
      await new Promise((r) => setTimeout(r, 50)); // audit lines are written behind the decisions
      return readAuditLog(dataDir);
    },
    async metrics() {
      return (await fetch(`${remediator.url}/metrics`, { headers: auth })).text();
    },
    mutations: () => engine.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
    async close() {
      await remediator.stop();
      await engine.close();
      await t.remove();
    },
  };
}

describe('node scope: a remediator heals its own node only', () => {
  it("heals its node's alert; another node's is recorded, audited with both nodes, counted, 200, never touched", async (t) => {
    const run = await start();
    t.after(() => run.close());

    const own = await run.post('f00000000000000a', { node: A });
    assert.equal(own.status, 200);
    assert.deepEqual(await own.json(), { status: 'ok', accepted: 1, duplicates: 0, refused: [] });
    assert.deepEqual(run.mutations(), [`POST /containers/${CID}/restart`]);
    const done = (await run.audit()).find((e) => e.kind === 'result' && e.action === 'restart_container');
    assert.equal(done?.result, 'done');
    assert.match(String(done?.detail), new RegExp(`\\[on this node ${A}: listed by its Docker\\]`));
    assert.ok((done?.calls as string[]).some((c) => c.startsWith('GET /info')));

    const before = run.engine.requests.length;
    const other = await run.post('f00000000000000b', { node: B });
    assert.equal(other.status, 200, 'Alertmanager must not retry it here');
    const body = (await other.json()) as { accepted: number; refused: { reason: string; detail: string }[] };
    assert.equal(body.accepted, 0);
    assert.equal(body.refused[0]!.reason, 'other_node');
    assert.equal(run.mutations().length, 1, 'no Docker call that changes anything');
    assert.ok(
      run.engine.requests.slice(before).every((r) => r.method === 'GET'),
      'only reads after the misrouted alert',
    );
    const refused = (await run.audit()).find((e) => e.kind === 'alert' && e.reason === 'other_node');
    assert.equal(refused?.alert_node, B);
    assert.equal(refused?.own_node, A);
    assert.equal(refused?.decision, 'skipped');
    assert.match(String(refused?.detail), new RegExp(`node="${B}", another node: this remediator runs on node ${A}`));
    const metrics = await run.metrics();
    assert.match(metrics, /sentinel_remediator_alerts_refused_total\{reason="other_node"\} 1/);
    assert.match(metrics, new RegExp(`sentinel_remediator_node_info\\{node_id="${A}",role="worker"\\} 1`));
  });

  it('picks up a new node id (left and rejoined): at once on an alert that does not fit, and every minute', async (t) => {
    const run = await start();
    t.after(() => run.close());
    assert.equal((await run.post('f00000000000001a', { node: A })).status, 200);
    assert.equal(run.world.restarts, 1);

    run.world.info = { NodeID: C, LocalNodeState: 'active' }; // left the Swarm and joined again: a new id
    await run.clock.advance(REREAD_MIN_MS);
    const rejoined = (await (await run.post('f00000000000001c', { node: C })).json()) as { accepted: number };
    assert.equal(rejoined.accepted, 1, 'the alert for the new id is this node');
    assert.equal(run.world.restarts, 2);
    const old = (await (await run.post('f00000000000001d', { node: A })).json()) as { refused: { reason: string }[] };
    assert.equal(old.refused[0]?.reason, 'other_node', 'the old id is no longer this node');
    assert.equal(run.world.restarts, 2);

    run.world.info = { NodeID: B, LocalNodeState: 'active' };
    await run.clock.advance(60_000); // the minutely re-read, no alert needed
    await new Promise((r) => setTimeout(r, 50));
    assert.match(await run.metrics(), new RegExp(`sentinel_remediator_node_info\\{node_id="${B}",role="worker"\\} 1`));
  });

  it('outside a Swarm behaves as before: every alert is acted on, node label or not', async (t) => {
    const run = await start((w) => (w.info = { NodeID: '', LocalNodeState: 'inactive' }));
    t.after(() => run.close());
    assert.equal(((await (await run.post('f00000000000002a', {})).json()) as { accepted: number }).accepted, 1);
    assert.equal(
      ((await (await run.post('f00000000000002b', { node: B })).json()) as { accepted: number }).accepted,
      1,
    );
    assert.equal(run.world.restarts, 2);
    assert.match(await run.metrics(), /sentinel_remediator_node_info\{node_id="",role="none"\} 1/);
  });

  it('answers 503 for an alert naming a node while its Docker cannot say which node it is, and accepts it later', async (t) => {
    const run = await start((w) => (w.info = 'down'));
    t.after(() => run.close());
    const res = await run.post('f00000000000003a', { node: A });
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { error: string }).error, /cannot tell whether the alert is for this node/);
    assert.equal(((await (await run.post('f00000000000003b', {})).json()) as { accepted: number }).accepted, 1);
    const ready = await fetch(`${run.remediator.url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.match(await ready.text(), /node: unknown \(Docker did not say/);
    run.world.info = { NodeID: A, LocalNodeState: 'active' };
    await run.clock.advance(REREAD_MIN_MS);
    assert.equal((await run.post('f00000000000003a', { node: A })).status, 200, "Alertmanager's retry is accepted");
    assert.equal(run.world.restarts, 2);
  });
});
