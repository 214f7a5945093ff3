import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { Incident } from '../incidents/incident.js';
import { planRemediation } from '../policy/plan-remediation.js';
import type { RuleConfig } from '../remediator-section.js';
import { clockSignal } from './clock.js';
import { checkStepSafety } from './check-step-safety.js';
import { closeIncident } from './close-incident.js';
import type { EngineContext } from './engine-context.js';
import { diagnoseFresh, freshSince, observedAtField, type FreshDiagnosis } from './diagnose-fresh.js';
import { dryRunLadder, resolveModel } from './dry-run-ladder.js';
import { healFleetIncident } from './heal-fleet-incident.js';
import { runRealStep } from './run-real-step.js';
import { fittedDeadlineMs, nextRestartStep, runnerBusy } from './step-fit.js';

/**
 * Diagnosis first, then the ladder from the step that fits, verifying recovery directly after every step and
 * stopping at the first that heals. Runs with the target's lock held. Never loops: the ladder position only grows,
 * every real step passes the safety gate, and an exhausted ladder closes the incident as failed.
 */
export async function healIncident(
  ctx: EngineContext,
  inc: Incident,
  rule: RuleConfig,
  dryRun: boolean,
): Promise<void> {
  // The fleet remediator on a manager: service-level steps for fleet-level faults only, judged by the nodes' alerts.
  if (ctx.cfg.node_scope === 'fleet') return healFleetIncident(ctx, inc, rule, dryRun);
  const target = ctx.target(inc.target);
  if (!target)
    return closeIncident(ctx, inc, 'dropped', 'target_removed', `target "${inc.target}" is no longer configured`);
  const looked = await diagnoseFresh(ctx, target, freshSince(inc));
  if (looked.kind === 'failed') return wait(ctx, inc, 'diagnosis_failed', 'could not diagnose the target');
  if (looked.kind === 'stale') return notFresh(ctx, inc, looked, dryRun);
  const report = looked.report;
  let picture = report; // the newest fresh observation: deadlines and the runner-busy check read it
  const plan = planRemediation({
    diagnosis: report.diagnosis,
    rule,
    selector: target.container,
    ladderPos: inc.ladderPos,
    ...(inc.ladder ? { ladder: inc.ladder } : {}),
  });
  inc.condition = plan.condition;
  const decided = {
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    dry_run: dryRun,
    condition: plan.condition,
    source: report.source,
    ...observedAtField(report),
  };

  if (plan.kind === 'skip') {
    ctx.metrics.skips.inc({ reason: plan.reason });
    await ctx.audit({ kind: 'decision', decision: 'skipped', reason: plan.reason, detail: plan.detail, ...decided });
    if (plan.reason === 'cleared')
      return closeIncident(ctx, inc, inc.attempts > 0 ? 'healed' : 'cleared', 'cleared', plan.detail);
    return wait(ctx, inc, plan.reason, plan.detail);
  }
  if (plan.kind === 'escalate') {
    await ctx.audit({ kind: 'decision', decision: 'escalated', reason: plan.reason, detail: plan.detail, ...decided });
    return closeIncident(
      ctx,
      inc,
      plan.reason === 'ladder_exhausted' ? 'failed' : 'escalated',
      plan.reason,
      plan.detail,
    );
  }

  inc.ladder = [...plan.ladder];
  const modelName = plan.model ?? inc.model;
  if (dryRun) return dryRunLadder(ctx, inc, target, plan, modelName, decided);

  // Set once every alert resolved during a step that did not cure the target: the ladder goes on, but it never waits
  // (cooldown, breaker, a stale picture) for alerts that are no longer firing.
  let resolvedMeanwhile = false;
  const closeResolved = (why: string) =>
    closeIncident(ctx, inc, 'resolved', 'resolved', `every alert of the incident resolved; ${why}`);
  for (let i = plan.start; i < plan.ladder.length; i++) {
    const action = plan.ladder[i]!;
    if (inc.cancelRequested)
      return closeIncident(ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved');
    if (ctx.stopping()) {
      inc.phase = 'pending'; // resumed after the restart
      return;
    }
    if (i > plan.start) {
      // Re-check before acting. The exporter may still show the state from before the last step, so only a new
      // escalation-only condition changes the course; recovery itself was judged by direct verification.
      const again = await diagnoseFresh(ctx, target, freshSince(inc));
      if (again.kind !== 'fresh' && resolvedMeanwhile) return closeResolved('no fresh picture to act on');
      if (again.kind !== 'fresh')
        return again.kind === 'stale'
          ? notFresh(ctx, inc, again, dryRun)
          : wait(ctx, inc, 'diagnosis_failed', 'could not diagnose the target before the next step');
      picture = again.report;
      if (again.report.diagnosis.status === 'healthy')
        return closeIncident(ctx, inc, 'resolved', 'resolved', `${inc.target} is healthy again before the next step`);
      const replanned = planRemediation({
        diagnosis: again.report.diagnosis,
        rule,
        selector: target.container,
        ladderPos: i,
        ladder: plan.ladder,
      });
      if (replanned.kind === 'escalate' && replanned.reason === 'escalation_only') {
        await ctx.audit({
          kind: 'decision',
          decision: 'escalated',
          reason: replanned.reason,
          detail: replanned.detail,
          ...decided,
          ...observedAtField(again.report),
        });
        return closeIncident(ctx, inc, 'escalated', replanned.reason, replanned.detail);
      }
    }
    const busy = action === 'reload' ? runnerBusy(picture.observation, modelName ?? ctx.model(inc.target)?.name) : null;
    if (busy) {
      ctx.metrics.skips.inc({ reason: 'runner_busy' });
      await ctx.audit({
        kind: 'decision',
        decision: 'skipped',
        reason: 'runner_busy',
        action,
        detail: busy,
        ...decided,
      });
      return wait(ctx, inc, 'runner_busy', busy);
    }
    const gate = checkStepSafety(ctx, inc, action);
    if (!gate.ok && resolvedMeanwhile) return closeResolved(`not waiting: ${gate.detail}`);
    if (!gate.ok) {
      ctx.metrics.skips.inc({ reason: gate.reason });
      await ctx.audit({
        kind: 'decision',
        decision: gate.reason === 'max_attempts' ? 'escalated' : 'skipped',
        reason: gate.reason,
        action,
        detail: gate.detail,
        ...decided,
      });
      if (gate.reason === 'max_attempts') return closeIncident(ctx, inc, 'failed', 'max_attempts', gate.detail);
      return wait(ctx, inc, gate.reason, gate.detail, gate.until);
    }
    const model = resolveModel(ctx, inc.target, action, modelName);
    if (model === null) {
      ctx.metrics.actions.inc({ target: inc.target, action, result: 'skipped' });
      inc.ladderPos = i + 1;
      await ctx.audit({
        kind: 'decision',
        decision: 'skipped',
        reason: 'model_unknown',
        action,
        detail: `${action} needs a configured model; ${modelName ? `"${modelName}" is not configured` : 'the alert names none and the target has none'}`,
        ...decided,
      });
      continue;
    }
    const verifyModel = model ?? ctx.model(inc.target, modelName);
    const deadline = fittedDeadlineMs(picture.observation, verifyModel?.name, ctx.cfg.load_timeout_ms);
    const outcome = await runRealStep(ctx, inc, target, action, i, model, plan.detail, deadline);
    if (outcome === 'not_started')
      return wait(ctx, inc, 'not_recorded', 'the intent could not be written to the audit log and state: not acting');
    if (outcome === 'interrupted') return;
    if (outcome.outcome === 'skipped' || outcome.unchanged) continue; // nothing changed: no point verifying
    if (outcome.serverStuck) {
      // Lighter steps (kill_runner, reload, warm_up) cannot cure a stuck server: straight to the restart steps.
      const to = nextRestartStep(plan.ladder, i);
      const skipped = plan.ladder.slice(i + 1, to < 0 ? undefined : to);
      await ctx.audit({
        kind: 'decision',
        decision: 'skipped',
        reason: 'server_stuck',
        action,
        detail: `${outcome.serverStuck}: the server, not the model, is stuck; skipping [${skipped.join(', ')}]${to < 0 ? ' (no restart step left)' : ` for ${plan.ladder[to]!}`}`,
        ...decided,
      });
      inc.ladderPos = to < 0 ? plan.ladder.length : to;
      i = inc.ladderPos - 1;
      continue;
    }
    const verdict = await verify(ctx, target, verifyModel, deadline);
    const step = inc.steps[inc.steps.length - 1]!;
    step.healthy = verdict.healthy ?? undefined;
    step.verifyDetail = verdict.detail;
    step.verifiedAt = ctx.clock.now();
    await ctx.audit({
      kind: 'verify',
      incident: inc.id,
      rule: inc.rule,
      target: inc.target,
      action,
      result: verdict.healthy === null ? 'unknown' : verdict.healthy ? 'healthy' : 'unhealthy',
      detail: verdict.detail,
    });
    if (verdict.healthy === true)
      return closeIncident(ctx, inc, 'healed', 'healed', `${action} healed it: ${verdict.detail}`);
    if (verdict.healthy === null)
      return closeIncident(
        ctx,
        inc,
        'escalated',
        'unverifiable',
        `${action} ran but recovery cannot be verified: ${verdict.detail}`,
      );
    if (inc.cancelRequested) {
      // The alerts resolved while this step ran or was verified: often the step itself reset what they watch (a
      // reload restarts the probe's streak). Our own check says it is not cured, so the ladder goes on; the fresh
      // diagnosis before the next step closes the incident if the target is healthy by then.
      delete inc.cancelRequested;
      resolvedMeanwhile = true;
      await ctx.audit({
        kind: 'decision',
        decision: 'continued',
        reason: 'resolved_during_own_step',
        action,
        detail: `every alert resolved during ${action}, but its verification found ${inc.target} still unhealthy`,
        ...decided,
      });
    }
  }
  return closeIncident(
    ctx,
    inc,
    'failed',
    'ladder_exhausted',
    `no step of [${plan.ladder.join(', ')}] healed ${inc.target} (${plan.detail})`,
  );
}

async function verify(
  ctx: EngineContext,
  target: OllamaTargetConfig,
  model: ModelConfig | undefined,
  loadTimeoutMs: number,
): Promise<{ healthy: boolean | null; detail: string }> {
  // verify_timeout bounds it, raised for a model whose measured load needs longer (plus a minute to answer).
  const limit = Math.max(ctx.cfg.verify_timeout_ms, loadTimeoutMs + 60_000);
  const s = clockSignal(ctx.clock, limit, 'verification timed out', ctx.abortSteps);
  try {
    return await ctx.ports.verify(target, model, s.signal, { loadTimeoutMs });
  } catch (err) {
    return { healthy: false, detail: `verification failed: ${(err as Error).message}` };
  } finally {
    s.dispose();
  }
}

/** An older or undated picture: audited with its time, and the incident looks again later (bounded by its timer). */
async function notFresh(
  ctx: EngineContext,
  inc: Incident,
  looked: Extract<FreshDiagnosis, { kind: 'stale' }>,
  dryRun: boolean,
): Promise<void> {
  ctx.metrics.skips.inc({ reason: 'stale_observation' });
  await ctx.audit({
    kind: 'decision',
    decision: 'skipped',
    reason: 'stale_observation',
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    dry_run: dryRun,
    source: looked.report.source,
    ...observedAtField(looked.report),
    detail: looked.detail,
  });
  return wait(ctx, inc, 'stale_observation', looked.detail);
}

async function wait(ctx: EngineContext, inc: Incident, reason: string, detail: string, until?: number): Promise<void> {
  ctx.waitFor(inc, reason, detail, until);
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
}
