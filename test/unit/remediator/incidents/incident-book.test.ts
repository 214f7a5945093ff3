import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncidentBook } from '../../../../remediator/incidents/incident-book.js';
import { newIncidentId } from '../../../../remediator/incidents/incident.js';
import type { JournalRecord } from '../../../../remediator/journal/journal-record.js';

let seq = 0;
function rec(over: Partial<JournalRecord>): JournalRecord {
  return {
    seq: ++seq,
    receivedAt: 0,
    fingerprint: 'aaaa',
    status: 'firing',
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    labels: { ollama: 'main', model: 'llama3:latest' },
    receiver: 'r',
    groupKey: 'g',
    target: 'main',
    rule: 'gpu',
    ...over,
  };
}
let n = 0;
const ids = () => `inc-${++n}`;
const label = () => 'model';

describe('IncidentBook', () => {
  it('one rule on one target is one incident: later alerts join, re-sends refresh', () => {
    const book = new IncidentBook(10);
    const a = book.apply(rec({}), 1, ids, label);
    assert.equal(a.kind, 'opened');
    if (a.kind !== 'opened') return;
    assert.equal(a.incident.model, 'llama3:latest');
    assert.equal(book.apply(rec({ fingerprint: 'bbbb' }), 2, ids, label).kind, 'joined');
    assert.equal(book.apply(rec({}), 3, ids, label).kind, 'refreshed');
    assert.equal(
      book.apply(rec({ rule: 'other', fingerprint: 'cccc' }), 4, ids, label).kind,
      'opened',
      'another rule is another incident',
    );
    assert.equal(
      book.apply(rec({ target: 'second', fingerprint: 'dddd' }), 5, ids, label).kind,
      'opened',
      'another target is another incident',
    );
    assert.equal(book.open().length, 3);
    assert.equal(book.apply(rec({ refused: 'unknown_target' }), 6, ids, label).kind, 'refused');
  });

  it('cancels only once every alert of the incident resolved', () => {
    const book = new IncidentBook(10);
    book.apply(rec({ fingerprint: 'f1' }), 1, ids, label);
    book.apply(rec({ fingerprint: 'f2' }), 2, ids, label);
    assert.equal(book.apply(rec({ fingerprint: 'f1', status: 'resolved' }), 3, ids, label).kind, 'partly_resolved');
    assert.equal(book.apply(rec({ fingerprint: 'f2', status: 'resolved' }), 4, ids, label).kind, 'all_resolved');
    assert.equal(book.apply(rec({ fingerprint: 'zz', status: 'resolved' }), 5, ids, label).kind, 'unknown_resolution');
  });

  it('never reopens a closed incident for a re-send of the same alert, but does for a new firing', () => {
    const book = new IncidentBook(10);
    const opened = book.apply(rec({ fingerprint: 'f9' }), 1, ids, label);
    assert.equal(opened.kind, 'opened');
    if (opened.kind !== 'opened') return;
    book.close(opened.incident, 'failed', 'ladder exhausted', 2);
    assert.deepEqual(book.apply(rec({ fingerprint: 'f9' }), 3, ids, label), {
      kind: 'closed_before',
      incidentId: opened.incident.id,
    });
    assert.equal(
      book.apply(rec({ fingerprint: 'f9', startsAt: '2026-01-02T00:00:00Z' }), 4, ids, label).kind,
      'opened',
    );
  });

  it('keeps a bounded history and survives a snapshot round trip', () => {
    const book = new IncidentBook(2);
    for (let i = 0; i < 5; i++) {
      const e = book.apply(rec({ fingerprint: `h${i}` }), i, ids, label);
      if (e.kind === 'opened') book.close(e.incident, 'healed', 'ok', 10 + i);
    }
    assert.equal(book.recent(100).length, 2);
    const copy = new IncidentBook(2, JSON.parse(JSON.stringify(book.snapshot())));
    assert.equal(copy.recent(100).length, 2);
    assert.equal(
      copy.apply(rec({ fingerprint: 'h0' }), 20, ids, label).kind,
      'closed_before',
      'closed alerts outlive the pruned incidents',
    );
  });

  it('makes sortable unique ids', () => {
    const a = newIncidentId(Date.UTC(2026, 2, 29, 1, 30));
    assert.match(a, /^inc-20260329T013000Z-[0-9a-f]{6}$/);
    assert.notEqual(a, newIncidentId(Date.UTC(2026, 2, 29, 1, 30)));
  });
});
