import { randomBytes } from 'node:crypto';
import type { Condition } from '../../shared/diagnosis/diagnose-target.js';
import type { ActionName } from '../actions/action.js';

/** How an incident ended. `dry_run`: the ladder was only logged. `cleared`: healthy before anything was done. */
export type IncidentOutcome = 'healed' | 'failed' | 'escalated' | 'resolved' | 'dropped' | 'cleared' | 'dry_run';

/**
 * Where an open incident stands. pending: work to do now. deferred: waiting for a quiet window to end.
 * running: a driver owns it. waiting: blocked (cooldown, breaker, inconclusive diagnosis, lock) until a notification
 * of one of its alerts, an operator's breaker reset, or its own re-check at `recheckAt`, whichever comes first.
 */
export type IncidentPhase = 'pending' | 'deferred' | 'running' | 'waiting';

export interface IncidentAlert {
  readonly fingerprint: string;
  readonly startsAt: string;
  status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly summary?: string;
  lastSeenAt: number;
  /** The Alertmanager group that notified it (absent in older state files): see GroupSnapshots. */
  readonly groupKey?: string;
}

export type StepOutcome = 'done' | 'skipped' | 'failed' | 'dry_run' | 'interrupted';

export interface StepRecord {
  readonly action: ActionName;
  readonly model?: string;
  readonly startedAt: number;
  finishedAt?: number;
  outcome?: StepOutcome;
  detail?: string;
  calls?: string[];
  /** Verification right after the step (absent in dry-run or when it never finished). */
  healthy?: boolean;
  verifyDetail?: string;
  /** When that verification ended: the step's own effects (a restart's failed probes) belong to it until then. */
  verifiedAt?: number;
  readonly dryRun: boolean;
}

/** A step whose intent is durable but whose result is not: after a crash, `actionHappened` decides. */
export interface InFlightStep {
  readonly action: ActionName;
  readonly model?: string;
  readonly ladderIndex: number;
  readonly startedAt: number;
  readonly before?: Readonly<Record<string, unknown>>;
}

export interface Incident {
  readonly id: string;
  readonly rule: string;
  readonly target: string;
  readonly openedAt: number;
  updatedAt: number;
  closedAt?: number;
  status: 'open' | IncidentOutcome;
  phase?: IncidentPhase;
  /** Why it closed, or why it waits. */
  reason?: string;
  alerts: IncidentAlert[];
  /** Model named by the rule's model_label on the first alert that had it. */
  model?: string;
  condition?: Condition;
  ladder?: ActionName[];
  /** Index of the next ladder step allowed: only ever grows, so an incident never climbs down and loops. */
  ladderPos: number;
  /** Real actions taken (dry-run excluded). */
  attempts: number;
  steps: StepRecord[];
  inFlight?: InFlightStep;
  deferredUntil?: number;
  /** While waiting: when the engine looks again by itself (the backstop when no notification comes). */
  recheckAt?: number;
  /** A resolved notification arrived while a step ran: finish the step, then stop. */
  cancelRequested?: boolean;
  silenceId?: string;
  /**
   * When the remediator last received a notification (webhook) that opened, joined or re-sent one of its alerts: it
   * acts only on an observation sampled after it (Alertmanager does not say when the rule was last evaluated).
   * Absent in files from 0.1.0 (then: the alerts' lastSeenAt).
   */
  notifiedAt?: number;
}

export const MAX_ALERTS_PER_INCIDENT = 100;

/** Sortable, unique incident id: UTC time of opening plus randomness ("inc-20260329T013000Z-3f9a1c"). */
export function newIncidentId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `inc-${stamp}-${randomBytes(3).toString('hex')}`;
}
