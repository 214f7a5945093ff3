import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSafety, recordAction, resetBreaker } from '../../../../remediator/policy/check-safety.js';
import { emptySafetyState } from '../../../../remediator/policy/safety-state.js';

const limits = { cooldownMs: 600_000, maxAttemptsPerIncident: 3, breakerMaxActions: 3, breakerWindowMs: 3_600_000 };
const q = (over: Partial<{ target: string; action: string; incidentAttempts: number; now: number }> = {}) => ({
  target: 'main',
  action: 'restart_container',
  incidentAttempts: 0,
  now: 0,
  ...over,
});

describe('safety gate', () => {
  it('cooldown is per target and action', () => {
    const s = emptySafetyState();
    recordAction(s, limits, { target: 'main', action: 'restart_container', now: 1_000 });
    const blocked = checkSafety(s, limits, q({ now: 1_000 + 599_999 }));
    assert.ok(!blocked.ok && blocked.reason === 'cooldown' && blocked.until === 601_000);
    assert.ok(checkSafety(s, limits, q({ now: 601_000 })).ok, 'free once the cooldown is over');
    assert.ok(
      checkSafety(s, limits, q({ now: 2_000, action: 'recreate_container' })).ok,
      'another action is not cooled down',
    );
    assert.ok(checkSafety(s, limits, q({ now: 2_000, target: 'other' })).ok, 'another target is not cooled down');
  });

  it('caps the actions of one incident', () => {
    const s = emptySafetyState();
    assert.ok(checkSafety(s, limits, q({ incidentAttempts: 2 })).ok);
    const v = checkSafety(s, limits, q({ incidentAttempts: 3 }));
    assert.ok(!v.ok && v.reason === 'max_attempts');
  });

  it('trips the breaker at N actions within the window, stays open, and an operator reset forgets the window', () => {
    const s = emptySafetyState();
    assert.equal(recordAction(s, limits, { target: 'a', action: 'x', now: 0 }), false);
    assert.equal(
      recordAction(s, limits, { target: 'b', action: 'x', now: 3_599_999 + 1 }),
      false,
      'the first one left the window',
    );
    assert.equal(recordAction(s, limits, { target: 'c', action: 'x', now: 3_600_100 }), false);
    assert.equal(
      recordAction(s, limits, { target: 'd', action: 'x', now: 3_600_200 }),
      true,
      'third within one hour trips',
    );
    const v = checkSafety(s, limits, q({ now: 100 * 3_600_000, target: 'z' }));
    assert.ok(!v.ok && v.reason === 'breaker_open', 'no automatic reset, even hours later');
    assert.equal(resetBreaker(s, 5, 'alice'), true);
    assert.ok(checkSafety(s, limits, q({ now: 3_600_300, target: 'z' })).ok);
    assert.equal(
      recordAction(s, limits, { target: 'e', action: 'x', now: 3_600_300 }),
      false,
      'the old actions no longer count',
    );
    assert.equal(s.breaker.resetBy, 'alice');
  });

  it('steps still running (or cut short, not yet judged) count: for their cooldown and for the breaker', () => {
    const s = emptySafetyState();
    const running = [{ target: 'main', action: 'restart_container', startedAt: 1_000 }];
    const cooled = checkSafety(s, limits, { ...q({ now: 2_000 }), running });
    assert.ok(!cooled.ok && cooled.reason === 'cooldown' && cooled.until === 601_000);
    assert.ok(checkSafety(s, limits, { ...q({ now: 2_000, target: 'other' }), running }).ok, 'one running of three');
    recordAction(s, limits, { target: 'a', action: 'x', now: 0 });
    recordAction(s, limits, { target: 'b', action: 'x', now: 0 });
    const full = checkSafety(s, limits, { ...q({ now: 2_000, target: 'other' }), running });
    assert.ok(!full.ok && full.reason === 'breaker_budget', 'two done and one running: the last one must wait');
    assert.ok(checkSafety(s, limits, q({ now: 2_000, target: 'other' })).ok, 'with nothing running it may go');
  });
});
