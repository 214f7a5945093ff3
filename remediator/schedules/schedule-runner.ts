import cron from 'node-cron';
import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/log/create-logger.js';
import type { ActionRequest, ActionResult } from '../actions/action.js';
import { clockSignal, type Clock } from '../engine/clock.js';
import type { RemediatorMetrics } from '../remediator-metrics.js';
import type { ScheduleConfig } from '../remediator-section.js';
import type { AuditEntry } from '../state/audit-log.js';

export interface ScheduleRunnerDeps {
  readonly schedules: readonly ScheduleConfig[];
  readonly targets: readonly OllamaTargetConfig[];
  readonly models: readonly ModelConfig[];
  readonly dryRun: boolean;
  readonly stepTimeoutMs: number;
  readonly scheduler: CronScheduler;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RemediatorMetrics;
  runStep(req: ActionRequest): Promise<ActionResult>;
  /** The healing lock of a target; a busy target is skipped, not waited for. */
  lockTarget(target: string): Promise<(() => void) | null>;
  audit(entry: AuditEntry): Promise<unknown>;
}

/**
 * Timed jobs such as "warm the models at 07:50 on weekdays". A warm-up only loads a model, so it is not counted by
 * the breaker or cooldowns, but it never runs while the target is being healed, and honours the global dry_run.
 */
export class ScheduleRunner {
  readonly #stops: (() => void)[] = [];

  constructor(private readonly d: ScheduleRunnerDeps) {}

  start(): void {
    for (const job of this.d.schedules)
      this.#stops.push(this.d.scheduler(job.cron, job.timezone, job.name, () => this.runJob(job)));
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /** One run of a job over its targets and models; never throws. */
  async runJob(job: ScheduleConfig): Promise<void> {
    const targets = job.targets.length ? this.d.targets.filter((t) => job.targets.includes(t.name)) : this.d.targets;
    for (const target of targets) {
      const forTarget = this.d.models.filter((m) => m.targets.length === 0 || m.targets.includes(target.name));
      const models = job.models.length
        ? forTarget.filter((m) => job.models.includes(m.name))
        : forTarget.filter((m) => m.keep_warm);
      if (models.length === 0) continue;
      const release = await this.d.lockTarget(target.name);
      if (!release) {
        this.d.metrics.skips.inc({ reason: 'target_busy' });
        await this.d.audit({
          kind: 'schedule',
          decision: 'skipped',
          reason: 'target_busy',
          rule: job.name,
          target: target.name,
          detail: 'the target is being healed',
        });
        continue;
      }
      try {
        for (const model of models) await this.#warm(job, target, model);
      } finally {
        release();
      }
    }
  }

  async #warm(job: ScheduleConfig, target: OllamaTargetConfig, model: ModelConfig): Promise<void> {
    const started = this.d.clock.now();
    const limit = clockSignal(this.d.clock, this.d.stepTimeoutMs, 'step_timeout reached');
    let result: ActionResult;
    try {
      result = await this.d.runStep({
        action: 'warm_up',
        target,
        model,
        dryRun: this.d.dryRun,
        signal: limit.signal,
        incidentId: `schedule-${job.name}`,
      });
    } catch (err) {
      result = { outcome: 'failed', detail: (err as Error).message, calls: [] };
    } finally {
      limit.dispose();
    }
    this.d.metrics.actions.inc({
      target: target.name,
      action: 'warm_up',
      result: this.d.dryRun ? 'dry_run' : result.outcome,
    });
    this.d.log.info(
      { job: job.name, target: target.name, model: model.name, outcome: result.outcome },
      'scheduled warm-up',
    );
    await this.d.audit({
      kind: 'schedule',
      decision: 'acted',
      reason: 'schedule',
      rule: job.name,
      target: target.name,
      action: 'warm_up',
      model: model.name,
      dry_run: this.d.dryRun,
      result: result.outcome,
      detail: result.detail,
      calls: result.calls,
      duration_ms: this.d.clock.now() - started,
    });
  }
}

/** Starts a job on a cron expression in a zone; returns its stop function. Tests substitute a fake-clock driver. */
export type CronScheduler = (
  expression: string,
  timezone: string,
  name: string,
  run: () => Promise<void>,
) => () => void;

/** node-cron: no overlapping runs of the same job; missed runs (process asleep) are not caught up. */
export const nodeCronScheduler: CronScheduler = (expression, timezone, name, run) => {
  const task = cron.schedule(expression, () => run(), {
    timezone,
    name: `schedule-${name}`,
    noOverlap: true,
    unref: true,
  });
  return () => void task.destroy();
};
