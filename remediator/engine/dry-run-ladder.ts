import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ActionName, ActionResult } from '../actions/action.js';
import type { Incident } from '../incidents/incident.js';
import type { Plan } from '../policy/plan-remediation.js';
import { clockSignal } from './clock.js';
import { closeIncident } from './close-incident.js';
import type { EngineContext } from './engine-context.js';

const MODEL_ACTIONS: readonly ActionName[] = ['warm_up', 'reload', 'pull_model'];

/** Dry-run: every step from the start is asked what it WOULD do; nothing counts toward cooldowns, attempts or the breaker. */
export async function dryRunLadder(
  ctx: EngineContext,
  inc: Incident,
  target: OllamaTargetConfig,
  plan: Extract<Plan, { kind: 'act' }>,
  modelName: string | undefined,
  decided: Record<string, unknown>,
): Promise<void> {
  for (let i = plan.start; i < plan.ladder.length; i++) {
    const action = plan.ladder[i]!;
    const model = resolveModel(ctx, inc.target, action, modelName) ?? undefined;
    const limit = clockSignal(ctx.clock, ctx.cfg.step_timeout_ms, 'step_timeout reached', ctx.abortSteps);
    let result: ActionResult;
    try {
      result = await ctx.ports.runStep({
        action,
        target,
        ...(model ? { model } : {}),
        dryRun: true,
        signal: limit.signal,
        incidentId: inc.id,
      });
    } catch (err) {
      result = { outcome: 'failed', detail: (err as Error).message, calls: [] };
    } finally {
      limit.dispose();
    }
    const now = ctx.clock.now();
    inc.steps.push({
      action,
      ...(model ? { model: model.name } : {}),
      startedAt: now,
      finishedAt: now,
      outcome: 'dry_run',
      detail: result.detail,
      calls: result.calls,
      dryRun: true,
    });
    ctx.metrics.actions.inc({ target: inc.target, action, result: 'dry_run' });
    await ctx.audit({
      kind: 'decision',
      ...decided,
      decision: 'acted',
      reason: plan.condition,
      action,
      step: i,
      calls: result.calls,
      detail: `would run: ${result.detail}`,
      dry_run: true,
    });
  }
  return closeIncident(
    ctx,
    inc,
    'dry_run',
    'dry_run',
    `dry-run: would climb [${plan.ladder.slice(plan.start).join(' -> ')}] for ${plan.detail}`,
  );
}

/** undefined: the action needs no model; null: it needs one and none is configured. */
export function resolveModel(
  ctx: EngineContext,
  target: string,
  action: ActionName,
  name: string | undefined,
): ModelConfig | undefined | null {
  const m = ctx.model(target, name);
  if (MODEL_ACTIONS.includes(action)) return m ?? null;
  return m;
}
