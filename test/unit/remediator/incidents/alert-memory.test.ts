import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_MEMORY_TTL_MS,
  AlertMemory,
  MAX_REMEMBERED_ALERTS,
} from '../../../../remediator/incidents/alert-memory.js';
import { IncidentBook } from '../../../../remediator/incidents/incident-book.js';

const T0 = '2026-06-01T00:00:00Z';
const T1 = '2026-06-01T01:00:00Z';
const T2 = '2026-06-01T02:00:00Z';

describe('AlertMemory', () => {
  it('orders by the alerts own timestamps: a resolution known first makes its firing (and older ones) over', () => {
    const m = new AlertMemory();
    assert.equal(m.noteResolved('a', T1, T2, 1), undefined, 'ends nothing known');
    assert.deepEqual(m.firing('a', T1), { kind: 'over' });
    assert.deepEqual(m.firing('a', T0), { kind: 'over' }, 'an older episode');
    assert.deepEqual(m.firing('a', '2026-06-01T02:00:00.000000001Z'), { kind: 'over' }, 'same millisecond as endsAt');
    assert.deepEqual(m.firing('a', '2026-06-01T02:00:01Z'), { kind: 'new' }, 'starts after the known end');
  });

  it('an episode joins one incident; its re-sends are known; a resolution ends it and every earlier one', () => {
    const m = new AlertMemory();
    m.noteFiring('a', T0, 'inc-1', 1);
    assert.deepEqual(m.firing('a', T0), { kind: 'known', incident: 'inc-1' });
    assert.equal(m.firingIncident('a'), 'inc-1');
    assert.equal(m.anyFiring('inc-1'), true);
    assert.equal(m.noteResolved('a', T0, '0001-01-01T00:00:00Z', 2), 'inc-1', 'an unreadable end ends its episode');
    assert.equal(m.anyFiring('inc-1'), false);
    assert.deepEqual(m.firing('a', T0), { kind: 'over' });
    m.noteFiring('b', T0, 'inc-2', 3);
    assert.equal(m.noteResolved('b', T1, T2, 4), 'inc-2', "a newer episode's end ends the older one too");
    m.noteFiring('c', T1, 'inc-3', 5);
    assert.equal(m.noteResolved('c', T0, T0, 6), undefined, "an older episode's end leaves the newer one firing");
    assert.equal(m.firingIncident('c'), 'inc-3');
  });

  it('forgets what nobody mentioned for the TTL, but never an alert of an open incident; a mention renews', () => {
    const m = new AlertMemory();
    m.noteFiring('closed', T0, 'inc-1', 0);
    m.noteFiring('renewed', T0, 'inc-1', 0);
    m.noteFiring('open', T0, 'inc-2', 0);
    m.touch('renewed', ALERT_MEMORY_TTL_MS);
    m.prune(ALERT_MEMORY_TTL_MS + 1, (id) => id === 'inc-2');
    assert.deepEqual(m.firing('closed', T0), { kind: 'new' });
    assert.deepEqual(m.firing('renewed', T0), { kind: 'known', incident: 'inc-1' });
    assert.deepEqual(m.firing('open', T0), { kind: 'known', incident: 'inc-2' });
  });

  it('past the cap it forgets the least recently mentioned first, open incidents last; survives a snapshot', () => {
    const m = new AlertMemory();
    m.noteFiring('open-oldest', T0, 'inc-open', 0);
    for (let i = 0; i < MAX_REMEMBERED_ALERTS + 10; i++) m.noteFiring(`x${i}`, T0, 'inc-closed', i + 1);
    m.prune(MAX_REMEMBERED_ALERTS + 20, (id) => id === 'inc-open');
    assert.equal(m.size, MAX_REMEMBERED_ALERTS);
    assert.equal(m.firingIncident('open-oldest'), 'inc-open');
    assert.equal(m.firingIncident('x10'), undefined);
    assert.equal(m.firingIncident('x11'), 'inc-closed');
    const copy = new AlertMemory(JSON.parse(JSON.stringify(m.snapshot())) as ReturnType<AlertMemory['snapshot']>);
    assert.equal(copy.size, m.size);
    assert.equal(copy.anyFiring('inc-open'), true);
  });

  it("reads 0.1.0's book: alerts of closed incidents and of open ones' lists are remembered", () => {
    const book = new IncidentBook(10, {
      incidents: [
        {
          id: 'inc-open',
          rule: 'r',
          target: 'main',
          openedAt: 0,
          updatedAt: 0,
          status: 'open',
          phase: 'waiting',
          alerts: [
            { fingerprint: 'o1', startsAt: T0, status: 'firing', labels: {}, lastSeenAt: 0 },
            { fingerprint: 'o2', startsAt: T0, status: 'resolved', labels: {}, lastSeenAt: 0 },
          ],
          ladderPos: 0,
          attempts: 0,
          steps: [],
        },
      ],
      closedAlerts: [
        [`c1|${T0}`, 'inc-closed', 5],
        [`c1|${T1}`, 'inc-closed-later', 6],
      ],
    });
    const snap = new Map(book.snapshot().alerts!.map((r) => [r[0], r]));
    assert.deepEqual(snap.get('c1'), ['c1', T1, null, 'inc-closed-later', 6], 'the newest episode');
    assert.deepEqual(snap.get('o1'), ['o1', T0, null, 'inc-open', 0]);
    assert.equal(snap.get('o2')![2], Date.parse(T0), 'a resolved one is over');
    assert.equal(book.firingIn('o1')?.id, 'inc-open');
    assert.equal(book.firingIn('o2'), undefined);
  });
});
