import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry } from '../../../../remediator/state/audit-log.js';
import { AuditBacklog } from '../../../../remediator/state/audit-backlog.js';
import { createLogger } from '../../../../shared/log/create-logger.js';

/** An audit log that fails while `full` is set (a full disk), recording what it wrote. */
function fakeLog() {
  const log = {
    full: false,
    written: [] as AuditEntry[],
    async write(e: AuditEntry) {
      await Promise.resolve();
      if (log.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      log.written.push(e);
    },
  };
  return log;
}

describe('AuditBacklog', () => {
  it('keeps lines that cannot be written and writes them first, with their own time, once it works again', async () => {
    const log = fakeLog();
    let now = Date.parse('2026-06-01T12:00:00Z');
    const backlog = new AuditBacklog(log, () => now, createLogger('silent'));
    assert.equal(await backlog.write({ kind: 'intent', action: 'reload' }), true);
    log.full = true;
    now += 1000;
    assert.equal(await backlog.write({ kind: 'result', result: 'done' }), false);
    now += 1000;
    assert.equal(await backlog.write({ kind: 'close', result: 'healed' }), false);
    assert.deepEqual(log.written, [{ kind: 'intent', action: 'reload' }]);
    log.full = false;
    now += 60_000;
    assert.equal(await backlog.write({ kind: 'alert' }), true);
    assert.deepEqual(log.written, [
      { kind: 'intent', action: 'reload' },
      { ts: '2026-06-01T12:00:01.000Z', kind: 'result', result: 'done' },
      { ts: '2026-06-01T12:00:02.000Z', kind: 'close', result: 'healed' },
      { kind: 'alert' },
    ]);
  });

  it('flush writes what is kept; concurrent writers that fail keep their order', async () => {
    const log = fakeLog();
    const backlog = new AuditBacklog(log, () => 0, createLogger('silent'));
    log.full = true;
    const kinds = ['intent', 'result', 'verify', 'close'] as const;
    await Promise.all(kinds.map((kind) => backlog.write({ kind })));
    await backlog.flush(); // still full: kept again
    log.full = false;
    await backlog.flush();
    assert.deepEqual(
      log.written.map((e) => e.kind),
      kinds,
    );
    await backlog.flush(); // nothing left
    assert.equal(log.written.length, 4);
  });
});
