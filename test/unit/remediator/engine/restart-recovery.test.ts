import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest, ActionResult } from '../../../../remediator/actions/action.js';
import type { PersistedState } from '../../../../remediator/state/persisted-state.js';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { FakePorts, makeHarness, record } from '../../../helpers/engine-harness.js';

/** Runs an incident until its first step is running, stops the engine mid-step, and returns the state on disk. */
async function crashMidStep(opts: { withEvidence: boolean }): Promise<PersistedState> {
  const h = makeHarness();
  h.ports.obs = () => CONDITIONS_OBS.hung();
  h.ports.step = (req: ActionRequest) =>
    new Promise<ActionResult>((resolve) => {
      void Promise.resolve(
        opts.withEvidence ? req.onBefore?.({ containers: [{ id: 'c1', startedAt: 'T0' }] }) : undefined,
      ).then(() => {
        // Respects the abort like the real actions do.
        req.signal.addEventListener('abort', () =>
          resolve({ outcome: 'failed', detail: 'aborted', calls: ['POST /containers/c1/restart'] }),
        );
      });
    });
  h.engine.accept([record({})]);
  await settle();
  assert.equal(h.ports.steps.length, 1);
  await h.engine.stop(0); // the grace is over at once: the step is aborted, as SIGKILL would cut it
  const state = h.saved();
  await h.dispose();
  return state;
}

describe('remediation engine: restart recovery', () => {
  it('keeps the intent and the evidence of a step cut short', async () => {
    const state = await crashMidStep({ withEvidence: true });
    const inc = state.book.incidents[0]!;
    assert.equal(inc.status, 'open');
    assert.equal(inc.inFlight?.action, 'reload');
    assert.deepEqual(inc.inFlight?.before, { containers: [{ id: 'c1', startedAt: 'T0' }] });
    assert.equal(inc.steps.length, 0, 'no result was recorded');
  });

  it('happened + healthy now: counted, healed, no step repeated', async () => {
    const state = await crashMidStep({ withEvidence: true });
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.happened = true;
      h.engine.start();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.happenedCalls, [
        { action: 'reload', before: { containers: [{ id: 'c1', startedAt: 'T0' }] } },
      ]);
      assert.deepEqual(h.ports.steps, [], 'health was re-checked instead of acting');
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'healed');
      assert.equal(inc.attempts, 1);
      assert.equal(inc.steps[0]!.outcome, 'interrupted');
      assert.ok(h.saved().safety.cooldowns['main/reload'] !== undefined, 'the cooldown survived the crash');
      assert.ok(h.audit.some((e) => e.kind === 'recovery' && e.result === 'true'));
    } finally {
      await h.dispose();
    }
  });

  it('happened + still unhealthy: the next step, not the same one again', async () => {
    const state = await crashMidStep({ withEvidence: true });
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [
        { healthy: false, detail: 'still hung' },
        { healthy: true, detail: 'ok' },
      ];
      h.engine.start();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['kill_runner@main']);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('did not happen: the same step runs again (through the safety gate)', async () => {
    const state = await crashMidStep({ withEvidence: true });
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.happened = false;
      h.ports.verdicts = [{ healthy: false, detail: 'still hung' }];
      h.engine.start();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['reload@main']);
      assert.equal(h.engine.incidents(1).incidents[0]!.attempts, 1, 'the interrupted one did not count');
    } finally {
      await h.dispose();
    }
  });

  it('cannot tell: counted as happened (safety limits never forget a possible restart)', async () => {
    const state = await crashMidStep({ withEvidence: true });
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.happened = null;
      h.ports.verdicts = [
        { healthy: false, detail: 'still hung' },
        { healthy: true, detail: 'ok' },
      ];
      h.engine.start();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['kill_runner@main']);
      assert.equal(h.engine.incidents(1).incidents[0]!.attempts, 2);
    } finally {
      await h.dispose();
    }
  });

  it('no evidence saved: nothing was mutated yet, so it did not happen (actionHappened is not asked)', async () => {
    const state = await crashMidStep({ withEvidence: false });
    assert.equal(state.book.incidents[0]!.inFlight?.before, undefined);
    const ports = new FakePorts();
    ports.obs = () => CONDITIONS_OBS.hung();
    ports.verdicts = [{ healthy: false, detail: 'still hung' }];
    const h = makeHarness({ initial: state, ports });
    try {
      h.engine.start();
      await settle();
      await h.engine.idle();
      assert.deepEqual(ports.happenedCalls, []);
      assert.deepEqual(ports.real(), ['reload@main']);
    } finally {
      await h.dispose();
    }
  });

  it('deferred work survives a restart and fires at the window end', async () => {
    const yaml =
      '  quiet_hours:\n    night: {timezone: UTC, cron: ["* * 22-23,0-5 * * *"]}\n  rules:\n    - {name: heal, quiet: night}\n';
    const first = makeHarness({ remediatorYaml: yaml, startAt: Date.parse('2026-06-01T23:00:00Z') });
    first.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
    await first.send({});
    const state = first.saved();
    await first.dispose();
    assert.equal(state.book.incidents[0]!.phase, 'deferred');
    const h = makeHarness({ remediatorYaml: yaml, startAt: Date.parse('2026-06-02T01:00:00Z'), initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      h.engine.start();
      await h.clock.advance(4 * 3_600_000 + 59 * 60_000);
      assert.deepEqual(h.ports.steps, []);
      await h.clock.advance(60_000);
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
    } finally {
      await h.dispose();
    }
  });
});
