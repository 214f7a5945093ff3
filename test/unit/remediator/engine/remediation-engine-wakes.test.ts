import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebhookAlert } from '../../../../remediator/ingress/webhook-payload.js';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { makeHarness, record, type Harness } from '../../../helpers/engine-harness.js';

const B = { fingerprint: 'f0000000000000bb', labels: { alertname: 'OllamaOther', ollama: 'main' } };

function resend(over: Partial<WebhookAlert> = {}): WebhookAlert {
  return {
    status: 'firing',
    fingerprint: 'f0000000000000aa',
    labels: {},
    annotations: {},
    startsAt: '2026-06-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    ...over,
  };
}

async function idle(h: Harness): Promise<void> {
  await settle();
  await h.engine.idle();
  await settle();
}

describe('remediation engine: no incident is left where nothing moves it', () => {
  it('a second alert joining while the first check is being saved gets its look (two back-to-back alerts)', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      const release = h.holdSaves();
      h.engine.accept([record({})]);
      await settle();
      assert.equal(h.ports.diagnoses, 1);
      assert.equal(h.engine.incidents(1).incidents[0]!.phase, 'waiting', 'inconclusive: the wait is being saved');
      h.ports.obs = () => CONDITIONS_OBS.orphans();
      h.engine.accept([record(B)]);
      release();
      await idle(h);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.alerts.length, 2);
      assert.deepEqual(h.ports.real(), ['kill_orphans@main'], 'the joined alert was looked at');
      assert.equal(inc.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('a resolution landing while the last check is being saved closes the incident', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      const release = h.holdSaves();
      h.engine.accept([record({})]);
      await settle();
      h.engine.accept([record({ status: 'resolved' })]);
      release();
      await idle(h);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'resolved');
      assert.equal(h.clock.pending, 0, 'nothing left to wake');
    } finally {
      await h.dispose();
    }
  });

  it('a re-send wakes an incident that is being driven: it gets one more look when the drive ends', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      const release = h.holdSaves();
      h.engine.accept([record({})]);
      await settle();
      h.ports.obs = () => CONDITIONS_OBS.orphans();
      h.engine.poke([resend()]);
      release();
      await idle(h);
      assert.deepEqual(h.ports.real(), ['kill_orphans@main']);
    } finally {
      await h.dispose();
    }
  });

  it('an incident waiting on an inconclusive diagnosis is looked at again by a timer, backing off, without re-sends', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      await h.send({});
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.phase, 'waiting');
      assert.equal(inc.recheckAt, h.clock.now() + 60_000, 'the next look is visible');
      await h.clock.advance(60_000);
      await idle(h);
      assert.equal(h.ports.diagnoses, 2);
      await h.clock.advance(60_000);
      await idle(h);
      assert.equal(h.ports.diagnoses, 2, 'backs off: the second look comes 2 minutes after the first');
      await h.clock.advance(60_000);
      await idle(h);
      assert.equal(h.ports.diagnoses, 3);
      // Hours later it still looks, at most every 30 minutes.
      await h.clock.advance(4 * 3_600_000);
      await idle(h);
      assert.ok(h.ports.diagnoses <= 3 + 4 * 2 + 5, `${h.ports.diagnoses} looks`);
      h.ports.obs = () => CONDITIONS_OBS.orphans();
      await h.clock.advance(30 * 60_000);
      await idle(h);
      assert.deepEqual(h.ports.real(), ['kill_orphans@main']);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('an incident waiting out a cooldown acts when the cooldown ends, once, without a re-send', async () => {
    const h = makeHarness({ remediatorYaml: '  cooldown: 10m\n  rules:\n    - name: heal\n' });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({});
      await h.clock.advance(60_000);
      await h.send({ startsAt: '2026-06-01T01:00:00Z' });
      const second = h.engine.incidents(10).incidents.find((i) => i.id === 'inc-2')!;
      assert.match(second.reason ?? '', /^cooldown/);
      assert.equal(second.recheckAt, h.clock.now() + 9 * 60_000, 'looks again exactly when the cooldown ends');
      await h.clock.advance(9 * 60_000 - 1);
      await idle(h);
      assert.equal(h.ports.real().length, 1, 'not a millisecond early');
      await h.clock.advance(1);
      await idle(h);
      assert.deepEqual(h.ports.real(), ['restart_container@main', 'restart_container@main']);
      assert.equal(second.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('the timer never acts past the breaker: it only looks, and the operator reset wakes the incident', async () => {
    const h = makeHarness({ remediatorYaml: '  breaker_max_actions: 1\n  rules:\n    - name: heal\n' });
    try {
      h.ports.obs = (t) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target: t });
      await h.send({});
      await h.send({ target: 'other', fingerprint: 'f0000000000000cc' });
      const waiting = h.engine.incidents(10).incidents.find((i) => i.target === 'other')!;
      assert.match(waiting.reason ?? '', /^breaker_open/);
      await h.clock.advance(24 * 3_600_000);
      await idle(h);
      assert.deepEqual(h.ports.real(), ['restart_container@main'], 'a day of timers and nothing more ran');
      const looks = h.audit.filter((e) => e.reason === 'breaker_open' && e.kind === 'decision').length;
      assert.ok(looks <= 50, `${looks} breaker looks in a day`);
      h.engine.resetBreaker('alice');
      await idle(h);
      assert.deepEqual(h.ports.real(), ['restart_container@main', 'restart_container@other']);
      assert.equal(waiting.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('waiting incidents get their timer back after a restart', async () => {
    const first = makeHarness();
    first.ports.obs = () => CONDITIONS_OBS.unknown();
    await first.send({});
    const state = first.saved();
    await first.dispose();
    assert.equal(state.book.incidents[0]!.phase, 'waiting');
    const h = makeHarness({ initial: state });
    try {
      h.ports.obs = () => CONDITIONS_OBS.orphans();
      h.engine.start();
      await h.clock.advance(60_000);
      await idle(h);
      assert.deepEqual(h.ports.real(), ['kill_orphans@main']);
    } finally {
      await h.dispose();
    }
  });
});
