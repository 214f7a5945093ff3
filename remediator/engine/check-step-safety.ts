import type { Incident } from '../incidents/incident.js';
import { checkSafety, type SafetyVerdict } from '../policy/check-safety.js';
import type { EngineContext } from './engine-context.js';

/**
 * May `inc` take `action` now (breaker, cooldown, attempts)? The steps other open incidents have in flight count as
 * actions already taken, so neither another target's step nor a restart slips an action past the limits.
 */
export function checkStepSafety(ctx: EngineContext, inc: Incident, action: string): SafetyVerdict {
  return checkSafety(ctx.safety, ctx.limits, {
    target: inc.target,
    action,
    incidentAttempts: inc.attempts,
    now: ctx.clock.now(),
    running: ctx.book
      .open()
      .flatMap((o) => (o.inFlight && o.id !== inc.id ? [{ target: o.target, ...o.inFlight }] : [])),
  });
}
