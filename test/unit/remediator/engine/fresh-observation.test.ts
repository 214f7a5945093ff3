// The engine acts only on a picture newer than what it acts on: the notification that opened or updated the
// incident, and (before each later step) the end of the previous step. Older or undated ones are audited and waited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { decisions, makeHarness } from '../../../helpers/engine-harness.js';

describe('remediation engine: acting only on a fresh observation', () => {
  it('an observation from before the webhook arrived is not acted on: audited with its time, then waited', async () => {
    const h = makeHarness();
    try {
      const received = h.clock.now();
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      h.ports.observedAt = () => received - 5_000; // the exporter's cache, from before the alert was sent
      await h.send({});
      assert.deepEqual(h.ports.real(), [], 'nothing done on an old picture');
      assert.equal(h.ports.diagnoses, 3, 'asked again, a bounded number of times');
      const skip = h.audit.find((e) => e.reason === 'stale_observation')!;
      assert.equal(skip.kind, 'decision');
      assert.equal(skip.decision, 'skipped');
      assert.equal(skip.observedAt, new Date(received - 5_000).toISOString());
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'open');
      assert.equal(inc.phase, 'waiting');
      assert.match(inc.reason!, /^stale_observation/);
      assert.equal(inc.notifiedAt, received);

      // The next look gets a fresh picture and acts; the decision lines carry its time.
      h.ports.observedAt = () => h.clock.now();
      await h.clock.advance(60_000);
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      const intent = h.audit.find((e) => e.kind === 'intent')!;
      assert.equal(intent.decision, 'acted');
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'healed');
    } finally {
      await h.dispose();
    }
  });

  it('an undated observation is never acted on', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      h.ports.observedAt = () => null;
      await h.send({});
      assert.deepEqual(h.ports.real(), []);
      const skip = h.audit.find((e) => e.reason === 'stale_observation')!;
      assert.equal(skip.observedAt, undefined);
      assert.match(skip.detail!, /undated/);
    } finally {
      await h.dispose();
    }
  });

  it('decisions record the observation time; a later step needs a picture newer than the previous step', async () => {
    const h = makeHarness({ remediatorYaml: '  rules:\n    - name: heal\n      dry_run: true\n' });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      const at = h.clock.now();
      await h.send({});
      const acted = h.audit.filter((e) => e.kind === 'decision' && e.decision === 'acted');
      assert.ok(acted.length > 0);
      for (const e of acted) assert.equal(e.observedAt, new Date(at).toISOString());
    } finally {
      await h.dispose();
    }

    const h2 = makeHarness();
    try {
      h2.ports.obs = () => CONDITIONS_OBS.hung();
      h2.ports.verdicts = [{ healthy: false, detail: 'probe timed out' }];
      // Steps take time; the exporter keeps answering with a picture from when the alert came in.
      const received = h2.clock.now();
      h2.ports.step = async (req) => {
        await h2.clock.advance(1_000);
        return { outcome: 'done', detail: `${req.action} ran`, calls: [] };
      };
      h2.ports.observedAt = () => received;
      await h2.send({});
      assert.deepEqual(h2.ports.real(), ['reload@main'], 'kill_runner waits for a picture from after the reload');
      assert.deepEqual(decisions(h2.audit).slice(-1), ['decision:skipped:stale_observation']);
      const inc = h2.engine.incidents(1).incidents[0]!;
      assert.equal(inc.ladderPos, 1, 'resumes at the next step once a fresh picture comes');
      h2.ports.observedAt = () => h2.clock.now();
      h2.ports.verdicts = [{ healthy: true, detail: 'ok' }];
      await h2.clock.advance(60_000);
      await h2.engine.idle();
      assert.deepEqual(h2.ports.real(), ['reload@main', 'kill_runner@main']);
    } finally {
      await h2.dispose();
    }
  });
});
