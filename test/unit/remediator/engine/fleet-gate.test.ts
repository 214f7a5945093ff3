// node_scope fleet: the whole remediator (webhook, journal, engine, the real ports and force_update_service) on a
// fake Swarm manager's Docker Engine. A service-level step restarts the service on EVERY node, so one node's fault
// must never trigger it: it waits, audited, until a second node's alert joins the incident; a service with a sole
// task is acted on at once; a remediator whose Docker is not a manager refuses every alert.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readAuditLog } from '../../../../deploy/demo/chain-observers.js';
import { HEAL_LABEL } from '../../../../remediator/actions/force-update-service.js';
import { createRemediationPorts } from '../../../../remediator/wiring/create-remediation-ports.js';
import { startRemediator } from '../../../../remediator/wiring/start-remediator.js';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { fakeSwarmManager, type SwarmManagerState } from '../../../helpers/fake-swarm-manager.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb2';
const TOKEN = 'fleet-token';
const STARTS = '2026-12-01T11:58:00.000Z';

async function start(over: Partial<SwarmManagerState> = {}) {
  const t = await tempDir('fleet-gate');
  const swarm = fakeSwarmManager(over);
  const engine = await startFakeDockerEngine(swarm.route);
  await writeFile(join(t.dir, 'token'), TOKEN);
  const { all, cfg } = loadRemediatorConfig(`
ollama:
  - {name: main, url: "http://127.0.0.1:1", container: {swarm: {service: ollama, stack: fleet}}}
models:
  - {name: llama3, keep_warm: true}
docker:
  host: unix://${engine.socketPath}
remediator:
  listen_address: 127.0.0.1:0
  bearer_token_file: ${join(t.dir, 'token')}
  data_dir: ${join(t.dir, 'data')}
  node_scope: fleet
  rules:
    - {name: restart-fleet, match: {alertname: OllamaProbeHung}, ladder: [force_update_service]}
`);
  const clock = new FakeClock(Date.parse('2026-12-01T12:00:00Z'));
  const remediator = await startRemediator(all, createLogger('silent'), {
    version: 'test',
    clock,
    // The real ports (no diagnosis or probe in fleet scope; GET /tasks; the real actions) on the fake manager.
    ports: ({ actionDeps }) =>
      createRemediationPorts({
        cfg,
        actionDeps: { ...actionDeps, sleep: () => new Promise((r) => setTimeout(r, 5)) },
        log: createLogger('silent'),
        firstTokenTimeoutMs: 1000,
      }),
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const dataDir = join(t.dir, 'data');
  return {
    swarm: swarm.state,
    clock,
    remediator,
    /** One notification of group "g": this alert, and the others its group still holds (Alertmanager lists them all). */
    async post(fingerprint: string, node: string | undefined, others: [string, string][] = []) {
      const res = await fetch(`${remediator.url}/webhook`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          receiver: 'fleet',
          status: 'firing',
          groupKey: 'g',
          truncatedAlerts: 0,
          externalURL: 'http://am',
          alerts: [[fingerprint, node] as const, ...others].map(([fp, n]) => ({
            status: 'firing',
            labels: { alertname: 'OllamaProbeHung', ollama: 'main', ...(n ? { node: n } : {}) },
            annotations: {},
            startsAt: STARTS,
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: fp,
          })),
        }),
      });
      await remediator.engine.idle();
      return (await res.json()) as { accepted: number; refused: { reason: string; detail: string }[] };
    },
    async audit() {
      await remediator.engine.idle();
      await new Promise((r) => setTimeout(r, 50)); // audit lines are written behind the decisions
      return readAuditLog(dataDir);
    },
    async metrics() {
      return (await fetch(`${remediator.url}/metrics`, { headers: auth })).text();
    },
    async close() {
      await remediator.stop();
      await engine.close();
      await t.remove();
    },
  };
}

describe('node scope fleet: service-level steps for fleet-level faults only', () => {
  it("one node's alert: no step, audited as node-local; a second node's alert joins and the fleet restarts once", async (t) => {
    const run = await start();
    t.after(() => run.close());

    assert.equal((await run.post('f0000000000000a1', A)).accepted, 1);
    assert.equal(run.swarm.updates.length, 0, 'one node: the fleet is never restarted');
    const local = (await run.audit()).find((e) => e.kind === 'decision' && e.reason === 'node_local');
    assert.match(String(local?.detail), new RegExp(`^fault on 1 node \\(${A}\\): node-local, left to that node's`));
    assert.match(String(local?.detail), /fleet_ollama is global, a task on every node/);
    await run.clock.advance(10 * 60_000); // its own re-checks change nothing
    assert.equal(run.swarm.updates.length, 0);

    assert.equal((await run.post('f0000000000000b2', B, [['f0000000000000a1', A]])).accepted, 1);
    assert.equal(run.swarm.applied, 1, 'exactly one force update');
    assert.equal(run.swarm.updates.length, 1);
    assert.equal(run.swarm.labels[HEAL_LABEL], `OllamaProbeHung main ${STARTS}`);
    const intent = (await run.audit()).find((e) => e.kind === 'intent');
    assert.equal(intent?.action, 'force_update_service');
    assert.match(String(intent?.detail), new RegExp(`fleet-level fault: firing on 2 nodes \\(${A}, ${B}\\)`));

    // Re-sends while it waits for the alerts to resolve, and its own re-checks, restart nothing more.
    await run.post('f0000000000000a1', A, [['f0000000000000b2', B]]);
    await run.clock.advance(60_000);
    assert.equal(run.swarm.applied, 1);
    const { incidents } = run.remediator.engine.incidents(5);
    assert.equal(incidents.length, 1, 'both nodes joined one incident');
    assert.match(incidents[0]!.reason ?? '', /^verifying: force_update_service done/);
  });

  it("a node's alert its group no longer lists is not counted: an Alertmanager that moved never sends its end", async (t) => {
    const run = await start();
    t.after(() => run.close());
    await run.post('f0000000000000a1', A);
    // A's node left, and the Alertmanager on it: the one Swarm started elsewhere lists only what it saw since, B.
    await run.post('f0000000000000b2', B);
    assert.equal(run.swarm.updates.length, 0, "one node's fault: the fleet is never restarted");
    const local = (await run.audit()).filter((e) => e.kind === 'decision' && e.reason === 'node_local').at(-1);
    assert.match(String(local?.detail), new RegExp(`^fault on 1 node \\(${B}; not counted: ${A} \\(its group's`));
    // Both listed firing again: the fleet's fault.
    await run.post('f0000000000000a1', A, [['f0000000000000b2', B]]);
    assert.equal(run.swarm.applied, 1);
  });

  it('a service with a sole task (one service per node or per model) is acted on for one node', async (t) => {
    const run = await start({ mode: 'replicated', taskNodes: [A] });
    t.after(() => run.close());
    assert.equal((await run.post('f0000000000000c1', A)).accepted, 1);
    assert.equal(run.swarm.applied, 1);
    const intent = (await run.audit()).find((e) => e.kind === 'intent');
    assert.match(String(intent?.detail), /the service fleet_ollama has one task: restarting it touches one node/);
  });

  it('a global service down to one task (mid rolling update, or nodes down) is not a sole task: one node waits', async (t) => {
    // Seen on the test fleet: during this remediator's own force update one node's task was being replaced, a second
    // stall alert from the other node found one desired-running task, and the fleet was restarted a second time.
    const run = await start({ mode: 'global', taskNodes: [A] });
    t.after(() => run.close());
    assert.equal((await run.post('f0000000000000e1', A)).accepted, 1);
    assert.equal(run.swarm.applied, 0, 'nothing restarted for one node');
    const skipped = (await run.audit()).find((e) => e.kind === 'decision' && e.reason === 'node_local');
    assert.match(String(skipped?.detail), /fleet_ollama is global, a task on every node/);
  });

  it('refuses every alert, audited and counted, when its Docker is not a Swarm manager; requires the node label', async (t) => {
    const run = await start({ manager: false });
    t.after(() => run.close());
    const worker = await run.post('f0000000000000d1', A);
    assert.equal(worker.accepted, 0);
    assert.equal(worker.refused[0]?.reason, 'not_manager');
    await run.post('f0000000000000d2', B);
    assert.equal(run.swarm.updates.length, 0);
    const refused = (await run.audit()).filter((e) => e.kind === 'alert' && e.reason === 'not_manager');
    assert.equal(refused.length, 2);
    assert.match(String(refused[0]?.detail), /need a Swarm manager.*is not one/);
    assert.match(await run.metrics(), /sentinel_remediator_alerts_refused_total\{reason="not_manager"\} 2/);

    run.swarm.manager = true; // promoted: read again at once (the alert did not fit)
    await run.clock.advance(60_000);
    const unlabelled = await run.post('f0000000000000d3', undefined);
    assert.equal(unlabelled.refused[0]?.reason, 'no_node_label');
    assert.equal(run.swarm.updates.length, 0);
  });
});
