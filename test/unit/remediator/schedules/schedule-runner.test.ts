import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cron from 'node-cron';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { TargetLock } from '../../../../remediator/engine/target-lock.js';
import { RemediatorMetrics } from '../../../../remediator/remediator-metrics.js';
import { ScheduleRunner, type CronScheduler } from '../../../../remediator/schedules/schedule-runner.js';
import type { AuditEntry } from '../../../../remediator/state/audit-log.js';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';

/** Drives node-cron's own matcher from a fake clock, once per minute, like the real scheduler at second 0. */
function fakeCron(clock: FakeClock): CronScheduler {
  return (expression, timezone, name, run) => {
    const task = cron.createTask(expression, () => undefined, { timezone, name: `fake-${name}` });
    let cancel = () => {};
    const arm = () => {
      const next = (Math.floor(clock.now() / 60_000) + 1) * 60_000;
      cancel = clock.setTimer(() => {
        if (task.match(new Date(next))) void run();
        arm();
      }, next - clock.now());
    };
    arm();
    return () => {
      cancel();
      void task.destroy();
    };
  };
}

const YAML = `
ollama:
  - {name: main, url: "http://127.0.0.1:1"}
  - {name: lab, url: "http://127.0.0.1:2"}
models:
  - {name: llama3, keep_warm: true}
  - {name: qwen3, keep_warm: false, targets: [lab]}
remediator:
  schedules:
    - {name: morning, cron: "0 50 7 * * 1-5", timezone: Europe/Berlin}
    - {name: lab-qwen, cron: "0 0 12 * * *", timezone: UTC, targets: [lab], models: [qwen3]}
`;

function setup(dryRun = false) {
  const { all, cfg } = loadRemediatorConfig(YAML);
  const clock = new FakeClock(Date.parse('2026-03-27T06:00:00Z')); // Friday 07:00 CET
  const steps: ActionRequest[] = [];
  const audit: AuditEntry[] = [];
  const locks = new TargetLock(clock);
  const runner = new ScheduleRunner({
    schedules: cfg.schedules,
    targets: all.ollama,
    models: all.models,
    dryRun,
    stepTimeoutMs: 60_000,
    scheduler: fakeCron(clock),
    clock,
    log: createLogger('silent'),
    metrics: new RemediatorMetrics(),
    runStep: async (req) => (
      steps.push(req),
      { outcome: 'done', detail: 'loaded', calls: [`POST /api/generate ${req.model?.name}`] }
    ),
    lockTarget: async (t) => (locks.isHeld(t) ? null : locks.acquire(t, 0)),
    audit: async (e) => void audit.push(e),
  });
  return { runner, clock, steps, audit, locks };
}

const at = (s: { clock: FakeClock }, iso: string) => s.clock.advance(Date.parse(iso) - s.clock.now());

describe('ScheduleRunner', () => {
  it('warms the keep_warm models at 07:50 Berlin time on weekdays only, across the DST change', async () => {
    const s = setup();
    s.runner.start();
    try {
      await at(s, '2026-03-27T06:49:00Z');
      assert.equal(s.steps.length, 0);
      await at(s, '2026-03-27T06:51:00Z'); // Friday 07:50 CET = 06:50 UTC
      assert.deepEqual(
        s.steps.map((r) => `${r.action} ${r.target.name} ${r.model?.name} ${r.dryRun}`),
        ['warm_up main llama3:latest false', 'warm_up lab llama3:latest false'],
      );
      await at(s, '2026-03-30T05:49:00Z'); // nothing on Saturday or Sunday (qwen3 at noon UTC runs daily)
      assert.equal(s.steps.filter((r) => r.model?.name === 'llama3:latest').length, 2);
      await at(s, '2026-03-30T05:51:00Z'); // Monday 07:50 CEST = 05:50 UTC
      assert.equal(s.steps.filter((r) => r.model?.name === 'llama3:latest').length, 4);
      const qwen = s.steps.filter((r) => r.model?.name === 'qwen3:latest');
      assert.ok(
        qwen.length === 3 && qwen.every((r) => r.target.name === 'lab'),
        'the noon job ran Fri, Sat, Sun on lab only',
      );
      assert.ok(s.audit.every((e) => e.kind === 'schedule' && e.decision === 'acted'));
    } finally {
      s.runner.stop();
    }
  });

  it('skips a target that is being healed and honours dry_run', async () => {
    const s = setup(true);
    const release = await s.locks.acquire('main', 0);
    s.runner.start();
    try {
      await at(s, '2026-03-27T06:51:00Z');
      assert.deepEqual(
        s.steps.map((r) => [r.target.name, r.dryRun]),
        [['lab', true]],
      );
      assert.ok(s.audit.some((e) => e.reason === 'target_busy' && e.target === 'main'));
    } finally {
      release?.();
      s.runner.stop();
    }
  });
});
