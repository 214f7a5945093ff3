import type { Incident } from '../incidents/incident.js';
import { recordAction } from '../policy/check-safety.js';
import { clockSignal } from './clock.js';
import { closeIncident } from './close-incident.js';
import type { EngineContext } from './engine-context.js';

/**
 * A step's intent is on disk but its result is not: the remediator died mid-step. Docker's and the kernel's own
 * state (via actionHappened and the `before` evidence saved just before the first mutation) tell whether it took
 * effect. Then health is re-checked directly instead of carrying on down the ladder blindly.
 * Returns true when the incident was closed (healthy again).
 */
export async function recoverInFlight(ctx: EngineContext, inc: Incident): Promise<boolean> {
  const f = inc.inFlight;
  if (!f) return false;
  const target = ctx.target(inc.target);
  if (!target) {
    await closeIncident(ctx, inc, 'dropped', 'target_removed', `target "${inc.target}" is no longer configured`);
    return true;
  }
  let happened: boolean | null;
  if (!f.before) {
    // onBefore runs before the first mutating call: without its evidence, nothing was changed yet.
    happened = false;
  } else {
    const s = clockSignal(ctx.clock, 60_000, 'actionHappened timed out', ctx.abortSteps);
    try {
      happened = await ctx.ports.actionHappened(f.action, { ...f.before }, target, s.signal);
    } catch {
      happened = null;
    } finally {
      s.dispose();
    }
  }
  const now = ctx.clock.now();
  const verdict =
    happened === true ? 'happened' : happened === false ? 'did not happen' : 'cannot tell (counted as happened)';
  inc.steps.push({
    action: f.action,
    ...(f.model ? { model: f.model } : {}),
    startedAt: f.startedAt,
    finishedAt: now,
    outcome: 'interrupted',
    detail: `interrupted by a restart of the remediator; ${verdict}`,
    calls: [],
    dryRun: false,
  });
  if (happened === false) {
    inc.ladderPos = f.ladderIndex; // may be tried again, through the safety gate
  } else {
    // Unknown counts as done: safety limits must not forget a restart that may have happened.
    inc.attempts++;
    inc.ladderPos = Math.max(inc.ladderPos, f.ladderIndex + 1);
    recordAction(ctx.safety, ctx.limits, { target: inc.target, action: f.action, now: f.startedAt });
    ctx.metrics.actions.inc({ target: inc.target, action: f.action, result: 'interrupted' });
  }
  delete inc.inFlight;
  await ctx.audit({
    kind: 'recovery',
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    action: f.action,
    result: happened === null ? 'unknown' : String(happened),
    detail: `step interrupted by a restart: ${verdict}`,
  });
  await ctx.save();

  const s = clockSignal(ctx.clock, ctx.cfg.verify_timeout_ms, 'verification timed out', ctx.abortSteps);
  let healthy: boolean | null = false;
  let detail: string;
  try {
    const v = await ctx.ports.verify(target, ctx.model(inc.target, f.model ?? inc.model), s.signal);
    healthy = v.healthy;
    detail = v.detail;
  } catch (err) {
    detail = `verification failed: ${(err as Error).message}`;
  } finally {
    s.dispose();
  }
  inc.steps[inc.steps.length - 1]!.verifiedAt = ctx.clock.now();
  await ctx.audit({
    kind: 'verify',
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    action: f.action,
    result: healthy === null ? 'unknown' : healthy ? 'healthy' : 'unhealthy',
    detail,
  });
  if (healthy === true) {
    await closeIncident(ctx, inc, 'healed', 'healed', `healthy after the interrupted ${f.action}: ${detail}`);
    return true;
  }
  return false;
}
