import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ActionName, ActionResult } from '../actions/action.js';
import type { Incident } from '../incidents/incident.js';
import { checkSafety, recordAction } from '../policy/check-safety.js';
import { planRemediation, type Plan } from '../policy/plan-remediation.js';
import type { RuleConfig } from '../remediator-section.js';
import { clockSignal } from './clock.js';
import { closeIncident, notify } from './close-incident.js';
import type { EngineContext } from './engine-context.js';
import type { DiagnosisReport } from './remediation-ports.js';

const MODEL_ACTIONS: readonly ActionName[] = ['warm_up', 'reload', 'pull_model'];

/**
 * Diagnosis first, then the ladder from the step that fits, verifying recovery directly after every step and
 * stopping at the first that heals. Runs with the target's lock held. Never loops: the ladder position only grows,
 * every real step passes the safety gate, and an exhausted ladder closes the incident as failed.
 */
export async function healIncident(ctx: EngineContext, inc: Incident, rule: RuleConfig, dryRun: boolean): Promise<void> {
  const target = ctx.target(inc.target);
  if (!target) return closeIncident(ctx, inc, 'dropped', 'target_removed', `target "${inc.target}" is no longer configured`);
  const report = await diagnose(ctx, target);
  if (!report) return wait(ctx, inc, 'diagnosis_failed', 'could not diagnose the target');
  const plan = planRemediation({ diagnosis: report.diagnosis, rule, selector: target.container, ladderPos: inc.ladderPos, ...(inc.ladder ? { ladder: inc.ladder } : {}) });
  inc.condition = plan.condition;
  const decided = { incident: inc.id, rule: inc.rule, target: inc.target, dry_run: dryRun, condition: plan.condition, source: report.source };

  if (plan.kind === 'skip') {
    ctx.metrics.skips.inc({ reason: plan.reason });
    await ctx.audit({ kind: 'decision', decision: 'skipped', reason: plan.reason, detail: plan.detail, ...decided });
    if (plan.reason === 'cleared') return closeIncident(ctx, inc, inc.attempts > 0 ? 'healed' : 'cleared', 'cleared', plan.detail);
    return wait(ctx, inc, plan.reason, plan.detail);
  }
  if (plan.kind === 'escalate') {
    await ctx.audit({ kind: 'decision', decision: 'escalated', reason: plan.reason, detail: plan.detail, ...decided });
    return closeIncident(ctx, inc, plan.reason === 'ladder_exhausted' ? 'failed' : 'escalated', plan.reason, plan.detail);
  }

  inc.ladder = [...plan.ladder];
  const modelName = plan.model ?? inc.model;
  if (dryRun) return dryRunLadder(ctx, inc, target, plan, modelName, decided);

  for (let i = plan.start; i < plan.ladder.length; i++) {
    const action = plan.ladder[i]!;
    if (inc.cancelRequested) return closeIncident(ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved');
    if (ctx.stopping()) {
      inc.phase = 'pending'; // resumed after the restart
      return;
    }
    if (i > plan.start) {
      // Re-check before acting. The exporter may still show the state from before the last step, so only a new
      // escalation-only condition changes the course; recovery itself was judged by direct verification.
      const again = await diagnose(ctx, target);
      const replanned = again && planRemediation({ diagnosis: again.diagnosis, rule, selector: target.container, ladderPos: i, ladder: plan.ladder });
      if (replanned && replanned.kind === 'escalate' && replanned.reason === 'escalation_only') {
        await ctx.audit({ kind: 'decision', decision: 'escalated', reason: replanned.reason, detail: replanned.detail, ...decided });
        return closeIncident(ctx, inc, 'escalated', replanned.reason, replanned.detail);
      }
    }
    const gate = checkSafety(ctx.safety, ctx.limits, { target: inc.target, action, incidentAttempts: inc.attempts, now: ctx.clock.now() });
    if (!gate.ok) {
      ctx.metrics.skips.inc({ reason: gate.reason });
      await ctx.audit({ kind: 'decision', decision: gate.reason === 'max_attempts' ? 'escalated' : 'skipped', reason: gate.reason, action, detail: gate.detail, ...decided });
      if (gate.reason === 'max_attempts') return closeIncident(ctx, inc, 'failed', 'max_attempts', gate.detail);
      return wait(ctx, inc, gate.reason, gate.detail);
    }
    const model = resolveModel(ctx, inc.target, action, modelName);
    if (model === null) {
      ctx.metrics.actions.inc({ action, result: 'skipped' });
      inc.ladderPos = i + 1;
      await ctx.audit({ kind: 'decision', decision: 'skipped', reason: 'model_unknown', action, detail: `${action} needs a configured model; ${modelName ? `"${modelName}" is not configured` : 'the alert names none and the target has none'}`, ...decided });
      continue;
    }
    const outcome = await runRealStep(ctx, inc, target, action, i, model, plan.detail);
    if (outcome === 'not_started' || outcome === 'interrupted') return;
    if (outcome.outcome === 'skipped') continue; // nothing changed: no point verifying
    const verdict = await verify(ctx, target, model ?? ctx.model(inc.target, modelName));
    const step = inc.steps[inc.steps.length - 1]!;
    step.healthy = verdict.healthy ?? undefined;
    step.verifyDetail = verdict.detail;
    await ctx.audit({ kind: 'verify', incident: inc.id, rule: inc.rule, target: inc.target, action, result: verdict.healthy === null ? 'unknown' : verdict.healthy ? 'healthy' : 'unhealthy', detail: verdict.detail });
    if (verdict.healthy === true) return closeIncident(ctx, inc, 'healed', 'healed', `${action} healed it: ${verdict.detail}`);
    if (verdict.healthy === null) return closeIncident(ctx, inc, 'escalated', 'unverifiable', `${action} ran but recovery cannot be verified: ${verdict.detail}`);
    if (inc.cancelRequested) return closeIncident(ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved');
  }
  return closeIncident(ctx, inc, 'failed', 'ladder_exhausted', `no step of [${plan.ladder.join(', ')}] healed ${inc.target} (${plan.detail})`);
}

/** One real step: durable intent, silence, the action under step_timeout, its result, safety bookkeeping. */
async function runRealStep(ctx: EngineContext, inc: Incident, target: OllamaTargetConfig, action: ActionName, index: number, model: ModelConfig | undefined, why: string): Promise<ActionResult | 'not_started' | 'interrupted'> {
  const startedAt = ctx.clock.now();
  inc.inFlight = { action, ladderIndex: index, startedAt, ...(model ? { model: model.name } : {}) };
  inc.ladderPos = index + 1;
  const base = { incident: inc.id, rule: inc.rule, target: inc.target, action, dry_run: false, ...(model ? { model: model.name } : {}) };
  const recorded = (await ctx.audit({ kind: 'intent', decision: 'acted', reason: inc.condition ?? 'unknown', detail: why, attempt: inc.attempts + 1, ...base })) && (await ctx.save().then(() => true, () => false));
  if (!recorded) {
    delete inc.inFlight;
    inc.ladderPos = index;
    await wait(ctx, inc, 'not_recorded', 'the intent could not be written to the audit log and state: not acting');
    return 'not_started';
  }
  await silence(ctx, inc);
  ctx.metrics.inFlight.inc();
  const limit = clockSignal(ctx.clock, ctx.cfg.step_timeout_ms, `step_timeout (${ctx.cfg.step_timeout_ms} ms) reached`, ctx.abortSteps);
  let result: ActionResult;
  try {
    result = await ctx.ports.runStep({
      action,
      target,
      ...(model ? { model } : {}),
      dryRun: false,
      signal: limit.signal,
      incidentId: inc.id,
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
  inc.steps.push({ action, ...(model ? { model: model.name } : {}), startedAt, finishedAt, outcome: result.outcome, detail: result.detail, calls: result.calls, dryRun: false });
  ctx.metrics.actions.inc({ action, result: result.outcome });
  ctx.metrics.stepDuration.observe({ action }, (finishedAt - startedAt) / 1000);
  if (result.outcome !== 'skipped') {
    inc.attempts++;
    ctx.metrics.lastAction.set({ target: inc.target, action }, finishedAt / 1000);
    if (recordAction(ctx.safety, ctx.limits, { target: inc.target, action, now: finishedAt })) await breakerTripped(ctx, inc, action);
  }
  await ctx.audit({ kind: 'result', result: result.outcome, detail: result.detail, calls: result.calls, duration_ms: finishedAt - startedAt, ...base });
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
  return result;
}

/** Dry-run: every step from the start is asked what it WOULD do; nothing counts toward cooldowns, attempts or the breaker. */
async function dryRunLadder(ctx: EngineContext, inc: Incident, target: OllamaTargetConfig, plan: Extract<Plan, { kind: 'act' }>, modelName: string | undefined, decided: Record<string, unknown>): Promise<void> {
  for (let i = plan.start; i < plan.ladder.length; i++) {
    const action = plan.ladder[i]!;
    const model = resolveModel(ctx, inc.target, action, modelName) ?? undefined;
    const limit = clockSignal(ctx.clock, ctx.cfg.step_timeout_ms, 'step_timeout reached', ctx.abortSteps);
    let result: ActionResult;
    try {
      result = await ctx.ports.runStep({ action, target, ...(model ? { model } : {}), dryRun: true, signal: limit.signal, incidentId: inc.id });
    } catch (err) {
      result = { outcome: 'failed', detail: (err as Error).message, calls: [] };
    } finally {
      limit.dispose();
    }
    const now = ctx.clock.now();
    inc.steps.push({ action, ...(model ? { model: model.name } : {}), startedAt: now, finishedAt: now, outcome: 'dry_run', detail: result.detail, calls: result.calls, dryRun: true });
    ctx.metrics.actions.inc({ action, result: 'dry_run' });
    await ctx.audit({ kind: 'decision', ...decided, decision: 'acted', reason: plan.condition, action, step: i, calls: result.calls, detail: `would run: ${result.detail}`, dry_run: true });
  }
  return closeIncident(ctx, inc, 'dry_run', 'dry_run', `dry-run: would climb [${plan.ladder.slice(plan.start).join(' -> ')}] for ${plan.detail}`);
}

async function diagnose(ctx: EngineContext, target: OllamaTargetConfig): Promise<DiagnosisReport | null> {
  const s = clockSignal(ctx.clock, ctx.cfg.exporter_timeout_ms + ctx.cfg.exec_timeout_ms + 5_000, 'diagnosis timed out', ctx.abortSteps);
  try {
    return await ctx.ports.diagnose(target, s.signal);
  } catch (err) {
    ctx.log.warn({ target: target.name, err: (err as Error).message }, 'diagnosis failed');
    return null;
  } finally {
    s.dispose();
  }
}

async function verify(ctx: EngineContext, target: OllamaTargetConfig, model: ModelConfig | undefined): Promise<{ healthy: boolean | null; detail: string }> {
  const s = clockSignal(ctx.clock, ctx.cfg.verify_timeout_ms, 'verification timed out', ctx.abortSteps);
  try {
    return await ctx.ports.verify(target, model, s.signal);
  } catch (err) {
    return { healthy: false, detail: `verification failed: ${(err as Error).message}` };
  } finally {
    s.dispose();
  }
}

/** undefined: the action needs no model; null: it needs one and none is configured. */
function resolveModel(ctx: EngineContext, target: string, action: ActionName, name: string | undefined): ModelConfig | undefined | null {
  const m = ctx.model(target, name);
  if (MODEL_ACTIONS.includes(action)) return m ?? null;
  return m;
}

async function wait(ctx: EngineContext, inc: Incident, reason: string, detail: string): Promise<void> {
  inc.phase = 'waiting';
  inc.reason = `${reason}: ${detail}`;
  inc.updatedAt = ctx.clock.now();
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
}

async function silence(ctx: EngineContext, inc: Incident): Promise<void> {
  if (!ctx.silencer || inc.silenceId) return;
  const labels = inc.alerts[0]?.labels ?? {};
  const matchers = [
    ...(labels.alertname ? [{ name: 'alertname', value: labels.alertname }] : []),
    ...(Object.hasOwn(labels, ctx.cfg.target_label) ? [{ name: ctx.cfg.target_label, value: labels[ctx.cfg.target_label]! }] : []),
  ];
  if (matchers.length === 0) return;
  const s = clockSignal(ctx.clock, 10_000, 'silence creation timed out');
  try {
    inc.silenceId = await ctx.silencer.create({ matchers, endsAt: ctx.clock.now() + ctx.cfg.silence.duration_ms, comment: `ollama-sentinel is healing incident ${inc.id} (rule ${inc.rule}, target ${inc.target})` }, s.signal);
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
