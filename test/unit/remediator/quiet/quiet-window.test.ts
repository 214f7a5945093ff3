import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import cron from 'node-cron';
import { QuietWindow } from '../../../../remediator/quiet/quiet-window.js';

const windows: QuietWindow[] = [];
function win(timezone: string, ...expr: string[]): QuietWindow {
  const w = new QuietWindow(`w${windows.length}`, { timezone, cron: expr });
  windows.push(w);
  return w;
}
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('QuietWindow', () => {
  after(() => {
    for (const w of windows) w.destroy();
  });

  it('spans midnight: 22:00-05:59 local is quiet, 06:00 ends it', () => {
    const w = win('UTC', '* * 22-23,0-5 * * *');
    assert.equal(w.isQuiet(Date.parse('2026-06-01T21:59:59Z')), false);
    assert.equal(w.isQuiet(Date.parse('2026-06-01T22:00:00Z')), true);
    assert.equal(w.isQuiet(Date.parse('2026-06-01T23:59:30Z')), true);
    assert.equal(w.isQuiet(Date.parse('2026-06-02T00:00:00Z')), true);
    assert.equal(w.isQuiet(Date.parse('2026-06-02T05:59:59Z')), true);
    assert.equal(w.isQuiet(Date.parse('2026-06-02T06:00:00Z')), false);
    assert.equal(iso(w.endAfter(Date.parse('2026-06-01T23:10:00Z'))), '2026-06-02T06:00:00.000Z');
  });

  it('minute granularity with several expressions: 22:30 to 07:15 on weekdays', () => {
    const w = win('UTC', '* 30-59 22 * * 1-5', '* * 23 * * 1-5', '* * 0-6 * * 2-6', '* 0-14 7 * * 2-6');
    // 2026-06-01 is a Monday.
    assert.equal(w.isQuiet(Date.parse('2026-06-01T22:29:00Z')), false);
    assert.equal(w.isQuiet(Date.parse('2026-06-01T22:30:00Z')), true);
    assert.equal(iso(w.endAfter(Date.parse('2026-06-01T22:30:00Z'))), '2026-06-02T07:15:00.000Z');
    assert.equal(w.isQuiet(Date.parse('2026-06-06T03:00:00Z')), true, 'Saturday early morning ends Friday night');
    assert.equal(w.isQuiet(Date.parse('2026-06-07T03:00:00Z')), false, 'not Sunday');
  });

  it('Europe/Berlin spring forward (2026-03-29): the night is one hour shorter in UTC', () => {
    const w = win('Europe/Berlin', '* * 22-23,0-5 * * *');
    const start = Date.parse('2026-03-28T21:00:00Z'); // 22:00 CET
    assert.equal(w.isQuiet(start), true);
    assert.equal(w.isQuiet(start - 60_000), false);
    assert.equal(w.isQuiet(Date.parse('2026-03-29T01:00:00Z')), true, '03:00 CEST: 02:xx does not exist');
    assert.equal(iso(w.endAfter(start)), '2026-03-29T04:00:00.000Z', '06:00 CEST');
  });

  it('Europe/Berlin fall back (2026-10-25): the repeated hour stays quiet and the end is 06:00 CET', () => {
    const w = win('Europe/Berlin', '* * 22-23,0-5 * * *');
    assert.equal(w.isQuiet(Date.parse('2026-10-25T00:30:00Z')), true, '02:30 CEST');
    assert.equal(w.isQuiet(Date.parse('2026-10-25T01:30:00Z')), true, '02:30 CET, the second time');
    assert.equal(iso(w.endAfter(Date.parse('2026-10-24T21:30:00Z'))), '2026-10-25T05:00:00.000Z');
    // A window on the repeated hour only: both 02:xx hours are quiet, 03:00 CET ends it.
    const twice = win('Europe/Berlin', '* * 2 * * *');
    assert.equal(twice.isQuiet(Date.parse('2026-10-25T00:15:00Z')), true);
    assert.equal(twice.isQuiet(Date.parse('2026-10-25T01:15:00Z')), true);
    assert.equal(iso(twice.endAfter(Date.parse('2026-10-25T00:15:00Z'))), '2026-10-25T02:00:00.000Z');
  });

  it('a window that never ends within the search bound says so', () => {
    const w = win('UTC', '* * * * * *');
    assert.equal(w.endAfter(Date.parse('2026-06-01T00:00:00Z')), null);
  });

  it('its node-cron tasks are never started and leave the registry when destroyed', () => {
    const before = cron.getTasks().size;
    const w = new QuietWindow('tmp', { timezone: 'UTC', cron: ['* * 1 * * *', '* * 2 * * *'] });
    assert.equal(cron.getTasks().size, before + 2);
    for (const t of cron.getTasks().values()) assert.notEqual(t.getStatus(), 'idle');
    w.destroy();
    assert.equal(cron.getTasks().size, before);
  });
});
