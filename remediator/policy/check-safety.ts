import { cooldownKey, type SafetyLimits, type SafetyState } from './safety-state.js';

export type SafetyVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'breaker_open' | 'max_attempts' | 'breaker_budget' | 'cooldown';
      readonly detail: string;
      readonly until?: number;
    };

/** A step whose intent is recorded but whose result is not (running now, or cut short by a restart). */
export interface RunningIntent {
  readonly target: string;
  readonly action: string;
  readonly startedAt: number;
}

/**
 * Pure: may this real action run now? Checked right before every step; dry-runs never ask. Steps still running
 * (or not yet judged after a restart) count as actions already taken, for the cooldown and for the breaker, so
 * neither steps on other targets nor a restart can slip an action past the limits.
 */
export function checkSafety(
  state: SafetyState,
  limits: SafetyLimits,
  q: { target: string; action: string; incidentAttempts: number; now: number; running?: readonly RunningIntent[] },
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
  const running = q.running ?? [];
  const recent = state.breaker.actions.filter((t) => q.now - t < limits.breakerWindowMs).length;
  if (running.length > 0 && recent + running.length >= limits.breakerMaxActions) {
    return {
      ok: false,
      reason: 'breaker_budget',
      detail: `${recent} action(s) in the breaker window and ${running.length} running: one more could pass breaker_max_actions ${limits.breakerMaxActions}; waiting for them`,
    };
  }
  const key = cooldownKey(q.target, q.action);
  const last = Math.max(
    state.cooldowns[key] ?? -Infinity,
    ...running.filter((r) => cooldownKey(r.target, r.action) === key).map((r) => r.startedAt),
  );
  if (last > -Infinity && q.now - last < limits.cooldownMs) {
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
