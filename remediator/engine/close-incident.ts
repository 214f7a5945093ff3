import type { Incident, IncidentOutcome } from '../incidents/incident.js';
import { recordAction } from '../policy/check-safety.js';
import type { Decision } from '../state/audit-log.js';
import { clockSignal } from './clock.js';
import type { EngineContext } from './engine-context.js';

const DECISION: Partial<Record<IncidentOutcome, Decision>> = {
  escalated: 'escalated',
  failed: 'escalated',
  dropped: 'dropped',
  cleared: 'skipped',
};

/** Closes an incident: audit line, silence removed, humans notified when it ends in their hands, state saved. */
export async function closeIncident(
  ctx: EngineContext,
  inc: Incident,
  outcome: IncidentOutcome,
  reason: string,
  detail: string,
): Promise<void> {
  const silenceId = inc.silenceId;
  const unjudged = inc.inFlight;
  if (unjudged) {
    // Closed before its interrupted step was judged (its rule or target is gone): counted as happened, as recovery
    // counts "cannot tell", so the safety limits never forget an action that may have run.
    inc.attempts++;
    recordAction(ctx.safety, ctx.limits, { target: inc.target, action: unjudged.action, now: unjudged.startedAt });
  }
  ctx.book.close(inc, outcome, reason, ctx.clock.now());
  ctx.metrics.incidentsClosed.inc({ target: inc.target, outcome });
  if (outcome === 'healed')
    ctx.metrics.timeToHeal.observe({ target: inc.target }, (ctx.clock.now() - inc.openedAt) / 1000);
  ctx.log.info({ incident: inc.id, rule: inc.rule, target: inc.target, outcome, reason, detail }, 'incident closed');
  const decision = DECISION[outcome];
  await ctx.audit({
    kind: 'close',
    ...(decision ? { decision } : {}),
    incident: inc.id,
    rule: inc.rule,
    target: inc.target,
    result: outcome,
    reason,
    detail,
    attempts: inc.attempts,
  });
  if (outcome === 'escalated' || outcome === 'failed') {
    ctx.metrics.escalations.inc({ target: inc.target, reason });
    await notify(ctx, inc, outcome, detail);
  }
  if (silenceId && ctx.silencer) {
    const s = clockSignal(ctx.clock, 10_000, 'silence removal timed out');
    try {
      await ctx.silencer.remove(silenceId, s.signal);
      delete inc.silenceId;
    } catch (err) {
      // It expires by itself (silence.duration); an orphaned silence is visible in Alertmanager's UI.
      ctx.log.warn({ incident: inc.id, silence: silenceId, err: (err as Error).message }, 'cannot remove the silence');
    } finally {
      s.dispose();
    }
  }
  await ctx.save().catch((err: Error) => ctx.log.error({ err: err.message }, 'cannot save state'));
}

export async function notify(
  ctx: EngineContext,
  inc: { id: string; rule: string; target: string; condition?: string; status: string; reason?: string } | undefined,
  event: 'escalated' | 'failed' | 'breaker_tripped',
  detail: string,
): Promise<void> {
  if (!ctx.notifier) return;
  const s = clockSignal(ctx.clock, ctx.cfg.notify?.timeout_ms ?? 5000, 'notification timed out');
  try {
    await ctx.notifier.send(
      {
        event,
        at: new Date(ctx.clock.now()).toISOString(),
        detail,
        ...(inc
          ? {
              incident: {
                id: inc.id,
                rule: inc.rule,
                target: inc.target,
                ...(inc.condition ? { condition: inc.condition } : {}),
                status: inc.status,
                ...(inc.reason ? { reason: inc.reason } : {}),
              },
            }
          : {}),
      },
      s.signal,
    );
  } catch (err) {
    ctx.log.warn({ event, err: (err as Error).message }, 'notification failed');
  } finally {
    s.dispose();
  }
}
