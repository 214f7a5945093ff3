import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ActionName, ActionResult } from '../actions/action.js';
import type { Incident } from '../incidents/incident.js';
import { recordAction } from '../policy/check-safety.js';
import { clockSignal } from './clock.js';
import { notify } from './close-incident.js';
import type { EngineContext } from './engine-context.js';
import { healMarker } from './fleet-gate.js';

/**
 * One real step: durable intent, silence, the action under step_timeout, its result, safety bookkeeping.
 * 'not_started': the intent could not be recorded, so nothing was done (the caller parks the incident);
 * 'interrupted': shutdown cut the step short and its intent stays for the next start to judge.
 */
export async function runRealStep(
  ctx: EngineContext,
  inc: Incident,
  target: OllamaTargetConfig,
  action: ActionName,
  index: number,
  model: ModelConfig | undefined,
  why: string,
  deadlineMs?: number,
): Promise<ActionResult | 'not_started' | 'interrupted'> {
  const startedAt = ctx.clock.now();
  inc.inFlight = { action, ladderIndex: index, startedAt, ...(model ? { model: model.name } : {}) };
  inc.ladderPos = index + 1;
  const base = {
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    action,
    dry_run: false,
    ...(model ? { model: model.name } : {}),
  };
  const recorded =
    (await ctx.audit({
      kind: 'intent',
      decision: 'acted',
      reason: inc.condition ?? 'unknown',
      detail: why,
      attempt: inc.attempts + 1,
      ...base,
    })) &&
    (await ctx.save().then(
      () => true,
      () => false,
    ));
  if (!recorded) {
    delete inc.inFlight;
    inc.ladderPos = index;
    // The intent line may be in the log (or kept to be written) while the state is not: close it, so no intent is
    // left without its outcome.
    await ctx.audit({
      kind: 'result',
      result: 'not_started',
      detail: 'the intent could not be made durable (audit log and state file): nothing was done',
      ...base,
    });
    return 'not_started';
  }
  await silence(ctx, inc);
  ctx.metrics.inFlight.inc();
  const limit = clockSignal(
    ctx.clock,
    ctx.cfg.step_timeout_ms,
    `step_timeout (${ctx.cfg.step_timeout_ms} ms) reached`,
    ctx.abortSteps,
  );
  let result: ActionResult;
  try {
    result = await ctx.ports.runStep({
      action,
      target,
      ...(model ? { model } : {}),
      dryRun: false,
      signal: limit.signal,
      incidentId: inc.id,
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
      // Fleet scope: the force update names the incident on the service, for the other managers' remediators.
      ...(ctx.cfg.node_scope === 'fleet' ? { healMarker: healMarker(inc) } : {}),
      onBefore: async (before) => {
        if (inc.inFlight) inc.inFlight = { ...inc.inFlight, before };
        await ctx.save();
      },
    });
  } catch (err) {
    result = { outcome: 'failed', detail: `${action} threw: ${(err as Error).message}`, calls: [] };
  } finally {
    limit.dispose();
    ctx.metrics.inFlight.dec();
  }
  if (ctx.abortSteps.aborted) {
    // Shutdown cut the step short: keep the intent so the next start asks Docker whether it happened.
    ctx.log.warn({ incident: inc.id, action }, 'step aborted by shutdown; it will be judged after the restart');
    return 'interrupted';
  }
  const finishedAt = ctx.clock.now();
  delete inc.inFlight;
  inc.steps.push({
    action,
    ...(model ? { model: model.name } : {}),
    startedAt,
    finishedAt,
    outcome: result.outcome,
    detail: result.detail,
    calls: result.calls,
    dryRun: false,
  });
  ctx.metrics.actions.inc({ target: inc.target, action, result: result.outcome });
  ctx.metrics.stepDuration.observe({ action }, (finishedAt - startedAt) / 1000);
  if (result.outcome !== 'skipped') {
    inc.attempts++;
    ctx.metrics.lastAction.set({ target: inc.target, action }, finishedAt / 1000);
    if (recordAction(ctx.safety, ctx.limits, { target: inc.target, action, now: finishedAt }))
      await breakerTripped(ctx, inc, action);
  }
  await ctx.audit({
    kind: 'result',
    result: result.outcome,
    detail: result.detail,
    calls: result.calls,
    duration_ms: finishedAt - startedAt,
    ...base,
  });
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
  return result;
}

async function silence(ctx: EngineContext, inc: Incident): Promise<void> {
  if (!ctx.silencer || inc.silenceId) return;
  const labels = inc.alerts[0]?.labels ?? {};
  const matchers = [
    ...(labels.alertname ? [{ name: 'alertname', value: labels.alertname }] : []),
    ...(Object.hasOwn(labels, ctx.cfg.target_label)
      ? [{ name: ctx.cfg.target_label, value: labels[ctx.cfg.target_label]! }]
      : []),
    // In a fleet every node has a target of the same name: silence this node's alerts only (the fleet remediator's
    // step restarts every node: it silences the alert on all of them).
    ...(!['off', 'fleet'].includes(ctx.cfg.node_scope) &&
    Object.hasOwn(labels, ctx.cfg.node_label) &&
    labels[ctx.cfg.node_label]
      ? [{ name: ctx.cfg.node_label, value: labels[ctx.cfg.node_label]! }]
      : []),
  ];
  if (matchers.length === 0) return;
  const s = clockSignal(ctx.clock, 10_000, 'silence creation timed out');
  try {
    inc.silenceId = await ctx.silencer.create(
      {
        matchers,
        endsAt: ctx.clock.now() + ctx.cfg.silence.duration_ms,
        comment: `ollama-sentinel is healing incident ${inc.id} (rule ${inc.rule}, target ${inc.target})`,
      },
      s.signal,
    );
    await ctx.save();
  } catch (err) {
    ctx.log.warn({ incident: inc.id, err: (err as Error).message }, 'cannot create the silence; healing anyway');
  } finally {
    s.dispose();
  }
}

async function breakerTripped(ctx: EngineContext, inc: Incident, action: string): Promise<void> {
  ctx.metrics.breakerOpen.set(1);
  const detail = `circuit breaker tripped: ${ctx.limits.breakerMaxActions} actions within ${ctx.limits.breakerWindowMs / 1000} s (last: ${action} on ${inc.target}); no more actions until an operator resets it`;
  ctx.log.error({ incident: inc.id, action }, detail);
  await ctx.audit({ kind: 'breaker', result: 'tripped', incident: inc.id, target: inc.target, action, detail });
  await notify(ctx, { ...inc, status: inc.status }, 'breaker_tripped', detail);
}
