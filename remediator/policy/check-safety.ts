import { cooldownKey, type SafetyLimits, type SafetyState } from './safety-state.js';

export type SafetyVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'breaker_open' | 'max_attempts' | 'cooldown';
      readonly detail: string;
      readonly until?: number;
    };

/** Pure: may this real action run now? Checked right before every step; dry-runs never ask. */
export function checkSafety(
  state: SafetyState,
  limits: SafetyLimits,
  q: { target: string; action: string; incidentAttempts: number; now: number },
): SafetyVerdict {
  if (state.breaker.open) {
    return {
      ok: false,
      reason: 'breaker_open',
      detail: `circuit breaker open since ${new Date(state.breaker.trippedAt ?? 0).toISOString()}: an operator must reset it (POST /api/breaker/reset or ollama-sentinel remediator --reset-breaker)`,
    };
  }
  if (q.incidentAttempts >= limits.maxAttemptsPerIncident) {
    return {
      ok: false,
      reason: 'max_attempts',
      detail: `this incident already took ${q.incidentAttempts} action(s) (max_attempts_per_incident ${limits.maxAttemptsPerIncident})`,
    };
  }
  const last = state.cooldowns[cooldownKey(q.target, q.action)];
  if (last !== undefined && q.now - last < limits.cooldownMs) {
    const until = last + limits.cooldownMs;
    return {
      ok: false,
      reason: 'cooldown',
      detail: `${q.action} ran on ${q.target} at ${new Date(last).toISOString()}; cooldown until ${new Date(until).toISOString()}`,
      until,
    };
  }
  return { ok: true };
}

/** Records a real action (cooldown, breaker window); returns true when this action tripped the breaker. */
export function recordAction(
  state: SafetyState,
  limits: SafetyLimits,
  q: { target: string; action: string; now: number },
): boolean {
  state.cooldowns[cooldownKey(q.target, q.action)] = q.now;
  for (const [k, at] of Object.entries(state.cooldowns)) if (q.now - at >= limits.cooldownMs) delete state.cooldowns[k];
  const b = state.breaker;
  b.actions = [...b.actions.filter((t) => q.now - t < limits.breakerWindowMs), q.now];
  if (!b.open && b.actions.length >= limits.breakerMaxActions) {
    b.open = true;
    b.trippedAt = q.now;
    return true;
  }
  return false;
}

/** Operator reset: closes the breaker and forgets the window, so the actions that tripped it do not trip it again. */
export function resetBreaker(state: SafetyState, now: number, by: string): boolean {
  const wasOpen = state.breaker.open;
  state.breaker = { open: false, actions: [], resetAt: now, resetBy: by };
  return wasOpen;
}
