import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest, ActionResult } from '../../../../remediator/actions/action.js';
import { settle } from '../../../helpers/fake-clock.js';
import { CONDITIONS_OBS, observation } from '../../../helpers/observation.js';
import { decisions, makeHarness, record } from '../../../helpers/engine-harness.js';

describe('remediation engine: the ladder', () => {
  it('GPU access lost: restarts at once, verifies, closes healed, silences while healing', async () => {
    const h = makeHarness({ withSilencer: true });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({});
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      const inc = h.engine.incidents(10).incidents[0]!;
      assert.equal(inc.status, 'healed');
      assert.equal(inc.condition, 'gpu_access_lost');
      assert.equal(inc.attempts, 1);
      assert.deepEqual(
        h.audit.filter((e) => e.incident === 'inc-1').map((e) => e.kind),
        ['alert', 'intent', 'result', 'verify', 'close'],
      );
      const intent = h.audit.find((e) => e.kind === 'intent')!;
      assert.equal(intent.decision, 'acted');
      assert.equal(intent.dry_run, false);
      assert.deepEqual(h.audit.find((e) => e.kind === 'result')!.calls, ['restart_container main']);
      assert.equal(h.silences.created.length, 1);
      assert.deepEqual(h.silences.created[0]!.matchers, [
        { name: 'alertname', value: 'OllamaBroken' },
        { name: 'ollama', value: 'main' },
      ]);
      assert.deepEqual(h.silences.removed, ['sil-1']);
      assert.match(
        await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_actions_total'),
        /target="main",action="restart_container",result="done"} 1/,
      );
      assert.match(
        await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_time_to_heal_seconds'),
        /sentinel_remediator_time_to_heal_seconds_count\{target="main"} 1/,
        'the healed incident is timed, by target',
      );
      assert.equal(h.saved().book.incidents[0]!.status, 'healed', 'the outcome is persisted');
    } finally {
      await h.dispose();
    }
  });

  it('hung runner: reload does not heal, kill_runner does; stops at the first healing step', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [
        { healthy: false, detail: 'probe timed out' },
        { healthy: true, detail: 'ok' },
      ];
      await h.send({});
      assert.deepEqual(h.ports.real(), ['reload@main', 'kill_runner@main']);
      assert.equal(h.ports.steps[0]!.model?.name, 'llama3:latest');
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'healed');
      assert.deepEqual(
        inc.steps.map((s) => [s.action, s.healthy]),
        [
          ['reload', false],
          ['kill_runner', true],
        ],
      );
    } finally {
      await h.dispose();
    }
  });

  it('an exhausted ladder stops, marks the incident failed and escalates; re-sends do not start it again', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      h.ports.verdicts = [
        { healthy: false, detail: 'still on CPU' },
        { healthy: false, detail: 'still on CPU' },
      ];
      await h.send({});
      assert.deepEqual(h.ports.real(), ['restart_container@main', 'recreate_container@main']);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'failed');
      assert.equal(inc.reason, 'ladder_exhausted');
      assert.deepEqual(
        h.notified.map((n) => n.event),
        ['failed'],
      );
      await h.send({ fingerprint: 'f0000000000000aa' });
      assert.equal(h.ports.steps.length, 2, 'never loops');
      assert.ok(h.audit.some((e) => e.reason === 'incident_closed'));
    } finally {
      await h.dispose();
    }
  });

  it('escalation-only conditions never restart anything', async () => {
    for (const obs of [
      CONDITIONS_OBS.partial(),
      CONDITIONS_OBS.oom(),
      CONDITIONS_OBS.busy(),
      CONDITIONS_OBS.gpuLost(),
      CONDITIONS_OBS.ecc(),
    ]) {
      const h = makeHarness({
        remediatorYaml: '  rules:\n    - {name: heal, ladder: [restart_container, recreate_container, reload]}\n',
      });
      try {
        h.ports.obs = () => obs;
        await h.send({});
        assert.deepEqual(h.ports.steps, []);
        assert.equal(h.engine.incidents(1).incidents[0]!.status, 'escalated');
        assert.deepEqual(decisions(h.audit), ['decision:escalated:escalation_only', 'close:escalated:escalation_only']);
        assert.equal(h.notified[0]!.event, 'escalated');
      } finally {
        await h.dispose();
      }
    }
  });

  it('re-checks before acting: a condition that cleared is skipped', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => observation();
      await h.send({});
      assert.deepEqual(h.ports.steps, []);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'cleared');
      assert.deepEqual(decisions(h.audit), ['decision:skipped:cleared', 'close:skipped:cleared']);
    } finally {
      await h.dispose();
    }
  });

  it('an inconclusive diagnosis waits; a re-send looks again and acts once the condition is clear', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.unknown();
      await h.send({});
      assert.equal(h.engine.incidents(1).incidents[0]!.phase, 'waiting');
      h.ports.obs = () => CONDITIONS_OBS.orphans();
      h.engine.poke([
        {
          status: 'firing',
          fingerprint: 'f0000000000000aa',
          labels: {},
          annotations: {},
          startsAt: '2026-06-01T00:00:00Z',
          endsAt: '',
          generatorURL: '',
        },
      ]);
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['kill_orphans@main']);
    } finally {
      await h.dispose();
    }
  });

  it('a later step sees a new escalation-only condition and stops climbing', async () => {
    const h = makeHarness();
    try {
      let n = 0;
      h.ports.obs = () => (n++ === 0 ? CONDITIONS_OBS.gpuAccessLost() : CONDITIONS_OBS.partial());
      h.ports.verdicts = [{ healthy: false, detail: 'half on CPU' }];
      await h.send({});
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'escalated');
    } finally {
      await h.dispose();
    }
  });
});

describe('remediation engine: safety', () => {
  it('dry-run logs the whole ladder and counts toward nothing', async () => {
    const h = makeHarness({
      remediatorYaml: '  dry_run: true\n  breaker_max_actions: 1\n  rules:\n    - name: heal\n',
    });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      await h.send({});
      assert.deepEqual(
        h.ports.steps.map((s) => [s.action, s.dryRun]),
        [
          ['reload', true],
          ['kill_runner', true],
          ['restart_container', true],
          ['recreate_container', true],
        ],
      );
      assert.deepEqual(h.ports.verified, [], 'nothing to verify');
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'dry_run');
      assert.equal(inc.attempts, 0);
      assert.deepEqual(h.saved().safety.cooldowns, {});
      assert.deepEqual(h.saved().safety.breaker.actions, []);
      assert.ok(
        h.audit.filter((e) => e.kind === 'decision').every((e) => e.dry_run === true && e.decision === 'acted'),
      );
      assert.deepEqual(
        h.audit.filter((e) => e.kind === 'decision').map((e) => e.calls),
        [
          ['WOULD reload main'],
          ['WOULD kill_runner main'],
          ['WOULD restart_container main'],
          ['WOULD recreate_container main'],
        ],
      );
    } finally {
      await h.dispose();
    }
  });

  it('per-rule dry_run overrides the global setting both ways', async () => {
    const h = makeHarness({
      remediatorYaml: '  dry_run: true\n  rules:\n    - {name: heal, dry_run: false}\n    - {name: practice}\n',
    });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({ rule: 'heal' });
      await h.send({ rule: 'practice', fingerprint: 'f0000000000000bb', target: 'other' });
      assert.deepEqual(
        h.ports.steps.map((s) => [s.action, s.target.name, s.dryRun]),
        [
          ['restart_container', 'main', false],
          ['restart_container', 'other', true],
          ['recreate_container', 'other', true],
        ],
      );
    } finally {
      await h.dispose();
    }
  });

  it('cooldown per target and action: a second incident waits, and acts after the cooldown on the next notification', async () => {
    const h = makeHarness({ remediatorYaml: '  cooldown: 10m\n  rules:\n    - name: heal\n' });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({});
      await h.send({ startsAt: '2026-06-01T01:00:00Z' });
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      const second = h.engine.incidents(10).incidents.find((i) => i.id === 'inc-2')!;
      assert.equal(second.phase, 'waiting');
      assert.match(second.reason ?? '', /^cooldown/);
      assert.match(
        await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_skips_total'),
        /reason="cooldown"} 1/,
      );
      await h.clock.advance(10 * 60_000);
      h.engine.poke([
        {
          status: 'firing',
          fingerprint: 'f0000000000000aa',
          labels: {},
          annotations: {},
          startsAt: '2026-06-01T01:00:00Z',
          endsAt: '',
          generatorURL: '',
        },
      ]);
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['restart_container@main', 'restart_container@main']);
    } finally {
      await h.dispose();
    }
  });

  it('max attempts per incident: stops and escalates even with ladder left', async () => {
    const h = makeHarness({ remediatorYaml: '  max_attempts_per_incident: 2\n  rules:\n    - name: heal\n' });
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = Array.from({ length: 5 }, () => ({ healthy: false, detail: 'still hung' }));
      await h.send({});
      assert.deepEqual(h.ports.real(), ['reload@main', 'kill_runner@main']);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'failed');
      assert.equal(inc.reason, 'max_attempts');
    } finally {
      await h.dispose();
    }
  });

  it('the circuit breaker trips after N actions, blocks everything, notifies, and only an operator resets it', async () => {
    const h = makeHarness({ remediatorYaml: '  breaker_max_actions: 2\n  rules:\n    - name: heal\n' });
    try {
      h.ports.obs = (t) => ({ ...CONDITIONS_OBS.gpuAccessLost(), target: t });
      await h.send({ target: 'main' });
      await h.send({ target: 'other', fingerprint: 'f0000000000000bb' });
      assert.deepEqual(
        h.notified.map((n) => n.event),
        ['breaker_tripped'],
      );
      assert.equal(h.engine.breakerOpen(), true);
      assert.match(await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_breaker_open'), / 1$/m);
      await h.clock.advance(48 * 3_600_000);
      await h.send({ target: 'main', startsAt: '2026-06-03T00:00:00Z' });
      assert.equal(h.ports.real().length, 2, 'still open two days later');
      assert.match(h.engine.incidents(1).incidents[0]!.reason ?? '', /^breaker_open/);
      assert.deepEqual(h.engine.resetBreaker('alice'), { wasOpen: true });
      assert.match(await h.metrics.registry.getSingleMetricAsString('sentinel_remediator_breaker_open'), / 0$/m);
      assert.equal(h.saved().safety.breaker.resetBy, 'alice');
      h.engine.poke([
        {
          status: 'firing',
          fingerprint: 'f0000000000000aa',
          labels: {},
          annotations: {},
          startsAt: '2026-06-03T00:00:00Z',
          endsAt: '',
          generatorURL: '',
        },
      ]);
      await settle();
      await h.engine.idle();
      assert.equal(h.ports.real().length, 3);
    } finally {
      await h.dispose();
    }
  });

  it('one healing per target at a time: a second incident waits for the lock', async () => {
    const h = makeHarness({
      remediatorYaml: '  cooldown: 0s\n  rules:\n    - {name: heal, match: {alertname: A}}\n    - {name: heal2}\n',
    });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      let active = 0;
      let maxActive = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      h.ports.step = async (req: ActionRequest): Promise<ActionResult> => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gate;
        active--;
        return { outcome: 'done', detail: 'ok', calls: [req.action] };
      };
      h.engine.accept([record({ rule: 'heal' }), record({ rule: 'heal2', fingerprint: 'f0000000000000bb' })]);
      await settle();
      assert.equal(h.ports.steps.length, 1, 'the second waits');
      release();
      await settle();
      await h.engine.idle();
      assert.equal(maxActive, 1);
      assert.deepEqual(
        h.engine
          .incidents(5)
          .incidents.map((i) => i.status)
          .sort(),
        ['healed', 'healed'],
      );
    } finally {
      await h.dispose();
    }
  });

  it('replaying the same journal record twice applies it once', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      const r = record({});
      h.engine.accept([r]);
      h.engine.accept([r]);
      await settle();
      await h.engine.idle();
      assert.equal(h.engine.incidents(10).incidents.length, 1);
      assert.equal(h.saved().appliedSeq, r.seq);
    } finally {
      await h.dispose();
    }
  });
});

describe('remediation engine: resolutions', () => {
  it('a resolution cancels pending work before anything ran', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      let releaseDiag!: () => void;
      const diagGate = new Promise<void>((r) => (releaseDiag = r));
      const original = h.ports.diagnose.bind(h.ports);
      h.ports.diagnose = async (t) => {
        await diagGate;
        return original(t);
      };
      h.engine.accept([record({})]);
      await settle();
      h.engine.accept([record({ status: 'resolved' })]);
      releaseDiag();
      await settle();
      await h.engine.idle();
      // The diagnosis was already running; the resolution is seen before the first step.
      assert.deepEqual(h.ports.real(), []);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'resolved');
    } finally {
      await h.dispose();
    }
  });

  it('a step already running finishes; if the target is healthy by then, the incident stops instead of climbing', async () => {
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [{ healthy: false, detail: 'still hung' }];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      h.ports.step = async (req) => {
        await gate;
        return { outcome: 'done', detail: 'reloaded', calls: [req.action] };
      };
      h.engine.accept([record({})]);
      await settle();
      assert.equal(h.ports.steps.length, 1);
      h.engine.accept([record({ status: 'resolved' })]);
      h.ports.obs = () => observation();
      release();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['reload@main']);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'resolved');
      assert.equal(inc.steps[0]!.outcome, 'done', 'the running step was not cut short');
    } finally {
      await h.dispose();
    }
  });

  it('alerts that resolve during a step do not end a ladder whose own verification found the target still broken', async () => {
    // A reload restarts the probe's streak, so the hang alert resolves during the step; the remediator's own probe
    // still gets nothing: the next step runs (audited as continued), decided on a fresh diagnosis.
    const h = makeHarness();
    try {
      h.ports.obs = () => CONDITIONS_OBS.hung();
      h.ports.verdicts = [
        { healthy: false, detail: 'still hung' },
        { healthy: true, detail: 'answers again' },
      ];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      h.ports.step = async (req) => {
        if (req.action === 'reload') await gate;
        return { outcome: 'done', detail: req.action, calls: [req.action] };
      };
      h.engine.accept([record({})]);
      await settle();
      h.engine.accept([record({ status: 'resolved' })]);
      release();
      await settle();
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['reload@main', 'kill_runner@main']);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'healed');
      assert.ok(
        decisions(h.audit).includes('decision:continued:resolved_during_own_step:reload'),
        decisions(h.audit).join('\n'),
      );
    } finally {
      await h.dispose();
    }
  });
});

describe('remediation engine: quiet hours', () => {
  const QUIET = `  quiet_hours:
    night: {timezone: Europe/Berlin, cron: ["* * 22-23,0-5 * * *"]}
  rules:
    - {name: heal, quiet: night}
    - {name: heal-drop, quiet: night, quiet_mode: drop, match: {alertname: Drop}}
`;

  it('defers across midnight and the DST change, then acts at 06:00 local if still firing', async () => {
    // 2026-03-29 00:30 UTC = 01:30 CET; clocks jump to 03:00 CEST at 01:00 UTC; the window ends 06:00 CEST = 04:00 UTC.
    const h = makeHarness({ remediatorYaml: QUIET, startAt: Date.parse('2026-03-29T00:30:00Z') });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({});
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.phase, 'deferred');
      assert.equal(new Date(inc.deferredUntil!).toISOString(), '2026-03-29T04:00:00.000Z');
      assert.deepEqual(decisions(h.audit), ['decision:deferred:quiet_hours']);
      await h.clock.advance(Date.parse('2026-03-29T03:59:00Z') - h.clock.now());
      await h.engine.idle();
      assert.deepEqual(h.ports.steps, [], 'nothing during the window');
      await h.clock.advance(60_000);
      await h.engine.idle();
      assert.deepEqual(h.ports.real(), ['restart_container@main']);
      assert.equal(h.ports.steps.length, 1);
    } finally {
      await h.dispose();
    }
  });

  it('a resolution during the window cancels the deferred work', async () => {
    const h = makeHarness({ remediatorYaml: QUIET, startAt: Date.parse('2026-10-24T22:30:00Z') });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({});
      assert.equal(
        new Date(h.engine.incidents(1).incidents[0]!.deferredUntil!).toISOString(),
        '2026-10-25T05:00:00.000Z',
        '06:00 CET after the fall-back',
      );
      await h.send({ status: 'resolved' });
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'resolved');
      await h.clock.advance(12 * 3_600_000);
      await h.engine.idle();
      assert.deepEqual(h.ports.steps, []);
    } finally {
      await h.dispose();
    }
  });

  it('drop mode closes the incident and its re-sends do not reopen it', async () => {
    const h = makeHarness({ remediatorYaml: QUIET, startAt: Date.parse('2026-06-01T21:30:00Z') });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({ rule: 'heal-drop' });
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'dropped');
      await h.clock.advance(6 * 3_600_000);
      await h.send({ rule: 'heal-drop' });
      assert.deepEqual(h.ports.steps, []);
    } finally {
      await h.dispose();
    }
  });
});
