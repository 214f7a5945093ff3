/**
 * Every action kind with the remediator killed between a step's intent and its result, then started again on the same
 * data dir. The kill lands as the step's mutating call reaches the world (a Docker or Ollama request, a signal): the
 * data dir is copied at that instant (what SIGKILL leaves: everything written so far is fsynced), the killed process
 * is cut off from the world, and the world either completes the call (Docker finishes a restart whose client died) or
 * never sees it (the process died just before sending it). The restarted engine must judge the step from the world
 * (actionHappened) and never repeat a step that happened, nor skip one that did not.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ACTION_NAMES, type ActionName } from '../../../../remediator/actions/action.js';
import { readAudit, settled, startDiskEngine, stepTrail } from '../../../helpers/fault-engine.js';
import { faultWorld } from '../../../helpers/fault-world.js';

async function killedMidStep(action: ActionName, applied: boolean): Promise<void> {
  const world = await faultWorld(action);
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-crash-'));
  const [first, second] = [join(dir, 'first'), join(dir, 'second')];
  try {
    await mkdir(first);
    const conn = await world.connect();
    let killedAt: string[] | undefined;
    const m = world.mutation;
    conn.faults(m.server).arm(
      m.endpoint,
      { kind: 'drop', applied },
      {
        times: 1,
        ...(m.when ? { when: m.when } : {}),
        onHit: () => {
          cpSync(first, second, { recursive: true });
          killedAt = [...world.effects];
          void conn.cut(); // from here on, nothing the killed process does reaches the world
        },
      },
    );
    const killed = await startDiskEngine(world, conn, first);
    await killed.send();
    await killed.stop();
    assert.ok(killedAt, 'the step reached its mutating call');
    const done = applied ? world.effects : killedAt;

    const restarted = await startDiskEngine(world, await world.connect(), second);
    const pending = restarted.incident();
    assert.equal(pending.inFlight?.action, action, 'the intent was on disk without a result');
    assert.ok(pending.inFlight?.before, 'with the evidence taken before acting');
    await restarted.resume();
    await restarted.stop();

    const inc = restarted.incident();
    assert.equal(settled(inc), 'closed:healed');
    // reload: a model loaded either way cannot show whether it was reloaded; unknown counts as happened.
    const verdict = applied ? (action === 'reload' ? 'unknown' : 'true') : 'false';
    if (applied) {
      assert.deepEqual(world.effects, done, 'nothing was done again after the restart');
      assert.deepEqual(stepTrail(await readAudit(second)), [
        'intent',
        `recovery:${verdict}`,
        'verify:healthy',
        'close:healed',
      ]);
    } else {
      assert.equal(world.effects.length, done.length + 1, `done once, after the restart: ${world.effects.join(', ')}`);
      assert.deepEqual(stepTrail(await readAudit(second)), [
        'intent',
        'recovery:false',
        'verify:unhealthy',
        'intent',
        'result:done',
        'verify:healthy',
        'close:healed',
      ]);
    }
    assert.equal(inc.attempts, 1, 'one attempt: the interrupted one counts only if it happened');
    assert.deepEqual(
      inc.steps.map((s) => s.outcome),
      applied ? ['interrupted'] : ['interrupted', 'done'],
    );
  } finally {
    await world.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const action of ACTION_NAMES) {
  describe(`${action}: remediator killed between intent and result`, () => {
    it('the world completed the call: judged done, not repeated', () => killedMidStep(action, true));
    it('the call never left: judged not done, done once after the restart', () => killedMidStep(action, false));
  });
}
