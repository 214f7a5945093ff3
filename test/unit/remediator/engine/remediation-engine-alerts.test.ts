import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { makeHarness, record } from '../../../helpers/engine-harness.js';

const fp = (i: number) => `f${String(i).padStart(15, '0')}`;

describe('remediation engine: every alert is acted on once, whatever the size of its incident', () => {
  it('a closed incident of 120 alerts is not reopened after a restart by a re-send of its 110th', async () => {
    const first = makeHarness();
    first.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
    // One POST of 120 alerts: all join before the first step.
    first.engine.accept(Array.from({ length: 120 }, (_, i) => record({ fingerprint: fp(i) })));
    await settle();
    await first.engine.idle();
    assert.deepEqual(first.ports.real(), ['restart_container@main']);
    const state = first.saved();
    await first.dispose();
    assert.equal(state.book.incidents[0]!.status, 'healed');
    assert.equal(state.book.incidents[0]!.alerts.length, 100, 'the list people read stays capped');

    // After the restart the intake's memory of re-sends is gone: Alertmanager's repeat is journaled and applied.
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      h.engine.start();
      await h.clock.advance(4 * 3_600_000);
      await h.send({ seq: 1_000, fingerprint: fp(110) }, { seq: 1_001, fingerprint: fp(0) });
      assert.deepEqual(h.ports.real(), [], 'never acted on again');
      assert.equal(h.engine.incidents(10).incidents.length, 1, 'no new incident');
      assert.deepEqual(
        h.audit.filter((e) => e.kind === 'alert').map((e) => e.reason),
        ['incident_closed', 'incident_closed'],
      );
    } finally {
      await h.dispose();
    }
  });

  it('an alert of the 150th place resolving counts: the incident closes only when every alert resolved', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      await h.send(...Array.from({ length: 150 }, (_, i) => ({ fingerprint: fp(i) })));
      await h.send(...Array.from({ length: 149 }, (_, i) => ({ fingerprint: fp(i), status: 'resolved' as const })));
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'open', 'the 150th still fires');
      await h.send({ fingerprint: fp(149), status: 'resolved' });
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'resolved');
    } finally {
      await h.dispose();
    }
  });
});

describe('remediation engine: alerts in their own time order, not in order of arrival', () => {
  it('a resolution that overtakes its firing: the late firing is already over and opens nothing', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({ status: 'resolved', endsAt: '2026-06-01T00:05:00Z' });
      await h.send({});
      assert.deepEqual(h.ports.real(), []);
      assert.equal(h.engine.incidents(10).incidents.length, 0);
      assert.equal(h.audit.at(-1)!.reason, 'already_resolved');
      // The next episode (it starts after the known end) is a new alert.
      await h.send({ startsAt: '2026-06-01T00:10:00Z' });
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
    } finally {
      await h.dispose();
    }
  });

  it('no phantom: with one alert resolved before it fired, resolving the other closes the incident', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      const b = { fingerprint: fp(2), labels: { alertname: 'OllamaOther', ollama: 'main' } };
      await h.send({ fingerprint: fp(1) });
      await h.send({ ...b, status: 'resolved', endsAt: '2026-06-01T00:01:00Z' });
      await h.send(b);
      await h.send({ fingerprint: fp(1), status: 'resolved', endsAt: '2026-06-01T00:02:00Z' });
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'resolved');
      assert.equal(inc.alerts.length, 1, 'the late firing never joined');
    } finally {
      await h.dispose();
    }
  });

  it('a firing re-sent late by the other Alertmanager of an HA pair, after a newer episode began, is over', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      await h.send({ startsAt: '2026-06-01T00:10:00Z' });
      await h.send({ startsAt: '2026-06-01T00:00:00Z' });
      assert.equal(h.audit.at(-1)!.reason, 'already_resolved');
      assert.equal(h.engine.incidents(1).incidents[0]!.alerts.length, 1);
    } finally {
      await h.dispose();
    }
  });

  it('a resolution ends the episode it names and every earlier one of the same alert', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      await h.send({ startsAt: '2026-06-01T00:00:00Z' });
      // Its own resolution was lost; the next episode came and went, and only that one's resolution arrives.
      await h.send({ status: 'resolved', startsAt: '2026-06-01T00:30:00Z', endsAt: '2026-06-01T00:40:00Z' });
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'resolved');
    } finally {
      await h.dispose();
    }
  });
});
