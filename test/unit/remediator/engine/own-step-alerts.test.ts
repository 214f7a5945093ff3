// A failure caused by the remediator's own step never counts: alerts of the target that start while its step runs or
// is being verified are audited as caused by it and never open (or continue) an incident, re-sends included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';
import { makeHarness, record } from '../../../helpers/engine-harness.js';
import { settle } from '../../../helpers/fake-clock.js';

describe('remediation engine: alerts caused by its own steps', () => {
  it('a probe alert that starts during a restart and its verification opens no incident, re-sent or not', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      const during = () => new Date(h.clock.now()).toISOString();
      let caused: string | undefined;
      h.ports.step = async (req) => {
        await h.clock.advance(2_000);
        // The restart cuts the probe short: OllamaProbeFailing (for: 0m) fires while the step runs.
        caused = during();
        h.engine.accept([record({ fingerprint: 'f00000000000probe', startsAt: caused, rule: 'heal' })]);
        await settle();
        await h.clock.advance(2_000);
        return { outcome: 'done', detail: `${req.action} ran`, calls: [] };
      };
      await h.send({});
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      const [first, ...others] = h.engine.incidents(10).incidents;
      assert.equal(first!.status, 'healed');
      assert.equal(others.length, 0, 'no second incident');
      assert.equal(first!.alerts.length, 1, 'the caused alert did not join the incident either');
      const line = h.audit.find((e) => e.reason === 'caused_by_own_step')!;
      assert.equal(line.kind, 'alert');
      assert.equal(line.decision, 'skipped');
      assert.equal(line.incident, 'inc-1');
      assert.equal(line.action, 'restart_container');

      // Alertmanager re-sends it on repeat_interval after the incident closed: still caused, still nothing.
      await h.clock.advance(3_600_000);
      await h.send({ fingerprint: 'f00000000000probe', startsAt: caused! });
      assert.equal(h.engine.incidents(10).incidents.length, 1);
      assert.equal(h.audit.filter((e) => e.reason === 'caused_by_own_step').length, 2);
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      assert.match(
        await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_skips_total'),
        /reason="caused_by_own_step"} 2/,
      );
    } finally {
      await h.dispose();
    }
  });

  it('an alert that starts after the verification ended, or on another target, is a new incident', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = (t) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target: t });
      await h.send({});
      const verifiedAt = h.engine.incidents(1).incidents[0]!.steps[0]!.verifiedAt!;
      assert.ok(verifiedAt > 0, 'the verification end is recorded on the step');
      await h.clock.advance(1_000);
      await h.send({
        fingerprint: 'f0000000000other',
        startsAt: new Date(verifiedAt).toISOString(),
        target: 'other',
        labels: { alertname: 'OllamaBroken', ollama: 'other' },
      });
      await h.send({ fingerprint: 'f0000000000later', startsAt: new Date(verifiedAt + 500).toISOString() });
      assert.deepEqual(h.ports.real(), ['restart_container@main', 'restart_container@other']);
      const later = h.engine.incidents(10).incidents.find((x) => x.alerts[0]!.fingerprint === 'f0000000000later')!;
      assert.equal(later.status, 'open', 'a new incident (held by the cooldown of the first restart)');
      assert.match(later.reason!, /^cooldown/);
      assert.equal(h.audit.filter((e) => e.reason === 'caused_by_own_step').length, 0);
    } finally {
      await h.dispose();
    }
  });
});
