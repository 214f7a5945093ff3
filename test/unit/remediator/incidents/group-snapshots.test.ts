import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupSnapshots } from '../../../../remediator/incidents/group-snapshots.js';

const firing = (fingerprint: string) => ({ fingerprint, status: 'firing' });

describe('GroupSnapshots', () => {
  it('knows nothing of a group before its first notification: every alert counts', () => {
    const g = new GroupSnapshots();
    assert.equal(g.stillFiring('{}:{alertname="OllamaApiDown"}', 'a1'), true);
    assert.equal(g.stillFiring(undefined, 'a1'), true, 'an alert recorded without its group (older state)');
  });

  it('an alert the latest notification of its group does not list firing is no longer firing', () => {
    const g = new GroupSnapshots();
    g.note('g', [firing('a1'), firing('b2')], 0);
    assert.equal(g.stillFiring('g', 'a1'), true);
    // Alertmanager moved and started empty: its first notification lists only the alert it has seen since.
    g.note('g', [firing('b2')], 0);
    assert.equal(g.stillFiring('g', 'a1'), false);
    assert.equal(g.stillFiring('g', 'b2'), true);
    // Listed as resolved: not firing either.
    g.note('g', [{ fingerprint: 'b2', status: 'resolved' }], 0);
    assert.equal(g.stillFiring('g', 'b2'), false);
    assert.equal(g.stillFiring('other', 'a1'), true, 'another group is unknown');
  });

  it('a truncated notification makes its group unknown again instead of listing too few', () => {
    const g = new GroupSnapshots();
    g.note('g', [firing('b2')], 0);
    assert.equal(g.stillFiring('g', 'a1'), false);
    g.note('g', [firing('b2')], 3);
    assert.equal(g.stillFiring('g', 'a1'), true);
  });

  it('keeps at most maxGroups groups, forgetting the one notified longest ago', () => {
    const g = new GroupSnapshots(2);
    g.note('old', [firing('x')], 0);
    g.note('mid', [firing('x')], 0);
    g.note('old', [firing('x')], 0); // notified again: now the newest
    g.note('new', [firing('x')], 0);
    assert.equal(g.stillFiring('mid', 'y'), true, 'forgotten: unknown');
    assert.equal(g.stillFiring('old', 'y'), false);
    assert.equal(g.stillFiring('new', 'y'), false);
  });
});
