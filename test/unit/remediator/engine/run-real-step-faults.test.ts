/**
 * Every action kind hit mid-step by its server failing: the connection dropped before the call reached the server
 * (request lost), dropped after the server did the work (answer lost), and an HTTP 500. The Docker actions meet the
 * fault in the fake Docker Engine, warm_up / reload / pull_model in a fake Ollama, and the runner kills (whose only
 * Docker call is the container list) there. Asserted each time: the world was changed at most once per decision
 * (`effects`), every step's intent has its result in the audit log, and the incident ends closed as it should, never
 * stuck.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ACTION_NAMES, type ActionName } from '../../../../remediator/actions/action.js';
import { readAudit, settled, startDiskEngine, stepTrail } from '../../../helpers/fault-engine.js';
import type { Fault } from '../../../helpers/fault-switch.js';
import { CONTAINER_ID, faultWorld, type FaultWorld } from '../../../helpers/fault-world.js';

type Case = 'drop_before' | 'drop_after' | 'http_500';

interface Expected {
  /** The changes the world saw, in order. */
  readonly effects: readonly string[];
  /** The step's outcome. */
  readonly outcome: 'done' | 'failed';
}

const C = CONTAINER_ID.slice(0, 12);
const UPDATE = 'update svc1 v10 ForceUpdate 2 -> 3';
const DEPLOY = 'update svc1 v10 ForceUpdate 2 -> 2';

/**
 * Why each one is right. A lost request is never re-sent blindly: only force_update_service retries, after
 * re-inspecting shows the counter did not move, and the pull resumes (ensureModel's own retry). A lost answer is
 * settled by looking at the world (a restart's new StartedAt, the service's counter). A 500 is a failure.
 */
const EXPECTED: Record<ActionName, Record<Case, Expected>> = {
  warm_up: {
    drop_before: { effects: [], outcome: 'failed' },
    drop_after: { effects: ['load'], outcome: 'failed' },
    http_500: { effects: [], outcome: 'failed' },
  },
  reload: {
    drop_before: { effects: ['unload'], outcome: 'failed' },
    drop_after: { effects: ['unload', 'load'], outcome: 'failed' },
    http_500: { effects: ['unload'], outcome: 'failed' },
  },
  pull_model: {
    drop_before: { effects: ['pull'], outcome: 'done' },
    drop_after: { effects: ['pull', 'pull'], outcome: 'done' },
    http_500: { effects: [], outcome: 'failed' },
  },
  kill_runner: {
    drop_before: { effects: [], outcome: 'failed' },
    drop_after: { effects: [], outcome: 'failed' },
    http_500: { effects: [], outcome: 'failed' },
  },
  kill_orphans: {
    drop_before: { effects: [], outcome: 'failed' },
    drop_after: { effects: [], outcome: 'failed' },
    http_500: { effects: [], outcome: 'failed' },
  },
  restart_container: {
    drop_before: { effects: [], outcome: 'failed' },
    drop_after: { effects: [`restart ${C}`], outcome: 'done' },
    http_500: { effects: [], outcome: 'failed' },
  },
  recreate_container: {
    drop_before: { effects: [`stop ${C}`], outcome: 'failed' },
    drop_after: { effects: [`stop ${C}`, `start ${C}`], outcome: 'done' },
    http_500: { effects: [`stop ${C}`], outcome: 'failed' },
  },
  force_update_service: {
    drop_before: { effects: [UPDATE], outcome: 'done' },
    drop_after: { effects: [UPDATE], outcome: 'done' },
    http_500: { effects: [], outcome: 'failed' },
  },
  redeploy_stack: {
    drop_before: { effects: [], outcome: 'failed' },
    drop_after: { effects: [DEPLOY], outcome: 'failed' },
    http_500: { effects: [], outcome: 'failed' },
  },
};

const FAULTS: Record<Case, { fault: Fault; times?: number }> = {
  drop_before: { fault: { kind: 'drop', applied: false }, times: 1 },
  drop_after: { fault: { kind: 'drop', applied: true }, times: 1 },
  http_500: { fault: { kind: 'status', status: 500, message: 'injected: server error' } },
};

async function run(action: ActionName, c: Case): Promise<void> {
  const world: FaultWorld = await faultWorld(action);
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-fault-data-'));
  try {
    const conn = await world.connect();
    const at = world.serverCall;
    conn.faults(at.server).arm(at.endpoint, FAULTS[c].fault, {
      ...(FAULTS[c].times ? { times: FAULTS[c].times } : {}),
      ...(at.when ? { when: at.when } : {}),
    });
    const e = await startDiskEngine(world, conn, dir);
    await e.send();
    await e.stop();
    const want = EXPECTED[action][c];
    const inc = e.incident();
    const healed = world.healthy();

    assert.ok(conn.faults(at.server).hits.length > 0, 'the fault hit the action');
    assert.deepEqual(world.effects, want.effects, 'what was done to the world, once each');
    assert.equal(inc.steps.length, 1);
    assert.equal(inc.steps[0]!.outcome, want.outcome, inc.steps[0]!.detail);
    assert.equal(settled(inc), healed ? 'closed:healed' : 'closed:failed');
    assert.deepEqual(stepTrail(await readAudit(dir)), [
      'intent',
      `result:${want.outcome}`,
      `verify:${healed ? 'healthy' : 'unhealthy'}`,
      `close:${healed ? 'healed' : 'failed'}`,
    ]);
    assert.deepEqual(
      e.notified.map((n) => n.event),
      healed ? [] : ['failed'],
      'humans are told when it ends in their hands',
    );
  } finally {
    await world.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const action of ACTION_NAMES) {
  describe(`${action} hit mid-step by its server`, () => {
    it('connection dropped before the call reached it: not sent again blindly', () => run(action, 'drop_before'));
    it('connection dropped after it did the work: settled from the world, not done twice', () =>
      run(action, 'drop_after'));
    it('HTTP 500: the step fails, the incident is closed and escalated', () => run(action, 'http_500'));
  });
}
