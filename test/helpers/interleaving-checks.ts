import type { World } from './interleaving-world.js';

/** The conditions an incident may visibly wait on (the first word of its reason). */
export const NAMED_WAITS = [
  'cooldown',
  'breaker_open',
  'breaker_budget',
  'inconclusive',
  'locked',
  'diagnosis_failed',
  'not_recorded',
];

/**
 * Open incidents that nothing will move: each must have a step running on its target (its own, or the one holding
 * the target's lock), be deferred to a time to come, or wait on a named condition with its next look set.
 * Call with every save landed and every promise callback run.
 */
export function stuckIncidents(world: World): string[] {
  const running = world.inFlight();
  const problems: string[] = [];
  for (const inc of world.gen.engine.incidents(100_000).incidents) {
    if (inc.status !== 'open') continue;
    const where = `${inc.id} (${inc.rule}@${inc.target}, phase ${inc.phase}, reason ${inc.reason})`;
    if (inc.phase === 'running') {
      if (!running.some((s) => s.req.target.name === inc.target)) problems.push(`${where}: no step runs on its target`);
    } else if (inc.phase === 'deferred') {
      if (!(inc.deferredUntil! >= world.t)) problems.push(`${where}: deferred to the past`);
    } else if (inc.phase === 'waiting') {
      if (!NAMED_WAITS.includes((inc.reason ?? '').split(':')[0]!)) problems.push(`${where}: waits on nothing named`);
      if (!(inc.recheckAt! >= world.t)) problems.push(`${where}: nothing will look at it again`);
    } else problems.push(`${where}: nothing drives it`);
  }
  return problems;
}

export interface Limits {
  readonly cooldownMs: number;
  readonly maxAttempts: number;
  readonly breakerMax: number;
  readonly breakerWindowMs: number;
}

/**
 * What really happened against the policy, counted from the world's own record of changes (not from what the
 * engine believes): per target and action no two changes closer than the cooldown; per incident no more changes
 * than the attempt limit; in any breaker window since the last reset no more than the breaker's count; and no alert
 * episode in two incidents that both changed something. Times are those of the steps' recorded intents.
 */
export function policyViolations(world: World, limits: Limits): string[] {
  const acts = world.steps.filter((s) => s.mutated).sort((a, b) => a.intentOrder - b.intentOrder);
  const problems: string[] = [];
  const last = new Map<string, number>();
  const perIncident = new Map<string, number>();
  for (const a of acts) {
    const key = `${a.req.target.name}/${a.req.action}`;
    const prev = last.get(key);
    if (prev !== undefined && a.intentAt - prev < limits.cooldownMs)
      problems.push(`${key} changed ${(a.intentAt - prev) / 1000} s after the previous change (step ${a.id})`);
    last.set(key, a.intentAt);
    const n = (perIncident.get(a.req.incidentId) ?? 0) + 1;
    perIncident.set(a.req.incidentId, n);
    if (n > limits.maxAttempts) problems.push(`${a.req.incidentId} changed things ${n} times (step ${a.id})`);
    const reset = Math.max(-1, ...world.resets.filter((r) => r < a.intentOrder));
    const inWindow = acts.filter(
      (b) =>
        b.intentOrder > reset && b.intentOrder <= a.intentOrder && a.intentAt - b.intentAt < limits.breakerWindowMs,
    );
    if (inWindow.length > limits.breakerMax)
      problems.push(`${inWindow.length} changes within one breaker window (step ${a.id})`);
  }
  const joined = new Map<string, Set<string>>();
  for (const e of world.audit) {
    if (e.kind !== 'alert' || !e.incident || !e.alert || (e.result !== 'opened' && e.result !== 'joined')) continue;
    const key = `${e.alert.fingerprint}|${e.alert.startsAt}`;
    joined.set(key, (joined.get(key) ?? new Set()).add(e.incident));
  }
  const acting = new Set(acts.map((a) => a.req.incidentId));
  for (const [key, incidents] of joined) {
    const both = [...incidents].filter((i) => acting.has(i));
    if (both.length > 1) problems.push(`alert ${key} was acted on by ${both.join(' and ')}`);
  }
  return problems;
}
