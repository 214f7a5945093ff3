import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest, ActionResult } from '../../../../remediator/actions/action.js';
import type { PersistedState } from '../../../../remediator/state/persisted-state.js';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { makeHarness, record } from '../../../helpers/engine-harness.js';

const TWO_RULES = '  rules:\n    - {name: heal, match: {alertname: A}}\n    - {name: heal2, match: {alertname: B}}\n';

/** An incident on main whose reload was cut short by a restart after its evidence was saved; the saved state. */
async function crashMidReload(): Promise<PersistedState> {
  const first = makeHarness({ remediatorYaml: TWO_RULES });
  first.ports.obs = () => CONDITIONS_OBS.hung();
  first.ports.step = (req: ActionRequest) =>
    new Promise<ActionResult>((resolve) => {
      void Promise.resolve(req.onBefore?.({ containers: [{ id: 'c1' }] })).then(() =>
        req.signal.addEventListener('abort', () => resolve({ outcome: 'failed', detail: 'aborted', calls: [] })),
      );
    });
  first.engine.accept([record({ labels: { alertname: 'A', ollama: 'main' }, rule: 'heal' })]);
  await settle();
  assert.deepEqual(first.ports.real(), ['reload@main']);
  await first.engine.stop(0);
  const state = first.saved();
  await first.dispose();
  return state;
}

describe('remediation engine: the limits hold across concurrent steps and restarts', () => {
  it('a step cut short by a restart holds its cooldown before it is judged: another incident on the target waits', async () => {
    const state = await crashMidReload();
    const h = makeHarness({ remediatorYaml: TWO_RULES, initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [{ healthy: false, detail: 'still hung' }];
      // As at start-up: the journal's unapplied alerts first (a new incident on the same target), then start().
      h.engine.accept([
        record({
          seq: 100,
          fingerprint: 'f0000000000000bb',
          labels: { alertname: 'B', ollama: 'main' },
          rule: 'heal2',
        }),
      ]);
      h.engine.start();
      await settle();
      await h.engine.idle();
      const other = h.engine.incidents(10).incidents.find((i) => i.rule === 'heal2')!;
      assert.ok(
        h.audit.some((e) => e.kind === 'recovery' && e.incident === 'inc-1'),
        'the interrupted step was judged',
      );
      assert.ok(!h.ports.steps.some((s) => s.action === 'reload' && s.incidentId === other.id), 'no second reload');
      assert.match(other.reason ?? '', /^cooldown/);
    } finally {
      await h.dispose();
    }
  });

  it('the breaker counts steps still running: two targets cannot both take its last action', async () => {
    const h = makeHarness({ remediatorYaml: '  breaker_max_actions: 2\n  rules:\n    - name: heal\n' });
    let release = () => {};
    try {
      h.ports.obs = (t) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target: t });
      await h.send({ target: 'main', labels: { alertname: 'X', ollama: 'main' } });
      assert.equal(h.ports.real().length, 1);
      const gate = new Promise<void>((r) => (release = r));
      h.ports.step = async (req) => {
        await gate;
        return { outcome: 'done', detail: 'ok', calls: [req.action] };
      };
      await h.clock.advance(3_600_000 - 1); // the first action is still inside the breaker window
      h.engine.accept([
        record({ target: 'main', startsAt: '2026-06-01T02:00:00Z', labels: { alertname: 'X', ollama: 'main' } }),
        record({ target: 'other', fingerprint: 'f0000000000000cc', labels: { alertname: 'X', ollama: 'other' } }),
      ]);
      await settle();
      assert.equal(h.ports.real().length, 2, 'one of them takes the last action');
      const waiting = h.engine.incidents(10).incidents.find((i) => i.phase === 'waiting')!;
      assert.match(waiting.reason ?? '', /^breaker_budget/);
      release();
      await settle();
      await h.engine.idle();
      assert.equal(h.ports.real().length, 2, 'the breaker tripped on the second: nothing more ran');
      assert.equal(h.engine.breakerOpen(), true);
    } finally {
      release();
      await h.dispose();
    }
  });

  it('a resolution replayed for an incident whose step was cut short: the step is judged and counted first', async () => {
    const state = await crashMidReload();
    const h = makeHarness({ remediatorYaml: TWO_RULES, initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [{ healthy: false, detail: 'still hung' }];
      h.engine.accept([
        record({ seq: 100, status: 'resolved', labels: { alertname: 'A', ollama: 'main' }, rule: 'heal' }),
      ]);
      h.engine.start();
      await settle();
      await h.engine.idle();
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'resolved');
      assert.equal(inc.attempts, 1);
      assert.ok(
        h.audit.some((e) => e.kind === 'recovery'),
        'judged',
      );
      assert.ok(h.saved().safety.cooldowns['main/reload'] !== undefined, 'its cooldown holds');
    } finally {
      await h.dispose();
    }
  });

  it('an incident closed before its cut-short step was judged (its rule is gone) counts the step', async () => {
    const state = await crashMidReload();
    const h = makeHarness({ remediatorYaml: '  rules:\n    - {name: heal2, match: {alertname: B}}\n', initial: state });
    try {
      h.engine.start();
      await settle();
      await h.engine.idle();
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.reason, 'rule_removed');
      assert.equal(inc.attempts, 1);
      assert.ok(h.saved().safety.cooldowns['main/reload'] !== undefined);
      assert.deepEqual(h.saved().safety.breaker.actions.length, 1);
    } finally {
      await h.dispose();
    }
  });
});
