import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertJournal } from '../../../../remediator/journal/alert-journal.js';
import { parsePersistedState } from '../../../../remediator/state/persisted-state.js';
import { StateStore } from '../../../../remediator/state/state-store.js';
import { makeHarness } from '../../../helpers/engine-harness.js';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { repoPath } from '../../../helpers/repo-path.js';
import { tempDir } from '../../../helpers/temp-dir.js';

/** The rules the fixture was written with (test/fixtures/remediator-0.1.0/generate-fixture.mjs). */
const FIXTURE_YAML = `  cooldown: 30m
  quiet_hours:
    night: {timezone: UTC, cron: ["* * 0-5 * * *"]}
  rules:
    - {name: gpu, match: {alertname: OllamaGpuLost}}
    - {name: hung, match: {alertname: OllamaHung}}
    - {name: odd, match: {alertname: OllamaOdd}}
    - {name: nightly, quiet: night, match: {alertname: OllamaNightly}}
`;

describe('state and journal written by 0.1.0', () => {
  it('load with this code: open incidents resume, closed ones stay closed, cooldowns hold, the journal replays', async () => {
    const t = await tempDir('compat');
    try {
      await cp(repoPath('test', 'fixtures', 'remediator-0.1.0'), t.dir, { recursive: true });
      const state = await StateStore.load(t.dir);
      assert.equal(state.appliedSeq, 5);
      const opened = await AlertJournal.open(join(t.dir, 'journal'), 1 << 20, state.appliedSeq);
      assert.equal(opened.damagedLines, 0);
      assert.deepEqual(
        opened.pending.map((r) => [r.seq, r.fingerprint, r.status]),
        [
          [6, 'b1b1b1b1b1b1b1b1', 'resolved'],
          [7, 'e1e1e1e1e1e1e1e1', 'firing'],
          [8, 'f1f1f1f1f1f1f1f1', 'firing'],
        ],
      );
      assert.equal(opened.journal.nextSeq, 9, 'numbering continues after the last record');
      await opened.journal.close();

      const h = makeHarness({
        remediatorYaml: FIXTURE_YAML,
        startAt: Date.parse('2026-06-01T03:05:00Z'),
        initial: state,
      });
      try {
        h.ports.obs = (target) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target });
        h.engine.accept(opened.pending);
        h.engine.start();
        await settle();
        await h.engine.idle();
        const byId = new Map(h.engine.incidents(20).incidents.map((i) => [i.id, i]));
        // Cut short mid-reload: Docker's evidence is asked, health re-checked, nothing repeated.
        assert.deepEqual(h.ports.happenedCalls, [
          { action: 'reload', before: { containers: [{ id: 'c0ffee', startedAt: '2026-06-01T01:00:00Z' }] } },
        ]);
        assert.equal(byId.get('inc-20260601T030300Z-000004')!.status, 'healed');
        // Waiting, then resolved by the journal record that was never applied.
        assert.equal(byId.get('inc-20260601T030100Z-000002')!.status, 'resolved');
        // Deferred to the end of the quiet window, still.
        const deferred = byId.get('inc-20260601T030200Z-000003')!;
        assert.equal(deferred.phase, 'deferred');
        assert.equal(new Date(deferred.deferredUntil!).toISOString(), '2026-06-01T06:00:00.000Z');
        // The replayed firing on main opened an incident, held by the restart's cooldown from 03:00.
        const fresh = h.engine.incidents(20).incidents.find((i) => i.alerts[0]?.fingerprint === 'e1e1e1e1e1e1e1e1')!;
        assert.equal(fresh.phase, 'waiting');
        assert.match(fresh.reason ?? '', /^cooldown/);
        assert.deepEqual(h.ports.real(), [], 'nothing acted on again');
        assert.ok(
          h.audit.some((e) => e.reason === 'unknown_target'),
          'the refused record is audited',
        );
        // A re-send of an alert of the healed incident does not reopen it.
        await h.send({
          seq: 100,
          fingerprint: 'a1a1a1a1a1a1a1a1',
          startsAt: '2026-06-01T02:55:00Z',
          labels: { alertname: 'OllamaGpuLost', ollama: 'main' },
          rule: 'gpu',
        });
        assert.ok(h.audit.some((e) => e.reason === 'incident_closed' && e.alert?.fingerprint === 'a1a1a1a1a1a1a1a1'));
        assert.equal(h.engine.incidents(20).incidents.filter((i) => i.rule === 'gpu').length, 1);
        assert.equal(h.saved().appliedSeq, 100);
        // Written back as version 2, which reads back the same.
        const again = parsePersistedState(JSON.stringify(h.saved()));
        assert.equal(again.version, 2);
        assert.deepEqual(again.book, JSON.parse(JSON.stringify(h.saved().book)));
      } finally {
        await h.dispose();
      }
    } finally {
      await t.remove();
    }
  });

  it('refuses what it cannot read by name: a future version, a book without alerts', () => {
    assert.throws(() => parsePersistedState('{"version": 3}'), /unsupported state version 3/);
    const v2 = {
      version: 2,
      savedAt: 0,
      appliedSeq: 0,
      safety: { cooldowns: {}, breaker: { open: false, actions: [] } },
    };
    assert.throws(() => parsePersistedState(JSON.stringify({ ...v2, book: { incidents: [] } })), /lacks/);
    assert.equal(parsePersistedState(JSON.stringify({ ...v2, book: { incidents: [], alerts: [] } })).version, 2);
  });
});
