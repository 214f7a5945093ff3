import type { Clock } from './clock.js';

/** The backstop re-check of a waiting incident: first after this long, doubling while nothing changes... */
export const RECHECK_MIN_MS = 60_000;
/** ...up to this; well under Alertmanager's default repeat_interval (4 h), the other thing that wakes it. */
export const RECHECK_MAX_MS = 30 * 60_000;

/**
 * The engine's timers: at most one per incident, either the end of its quiet window (deferred) or its next look
 * by itself (waiting), and when that next look is due. A look is only a look: every action still passes the safety
 * gate, so these timers can never act more often than cooldowns, attempt limits and the breaker allow.
 */
export class IncidentTimers {
  readonly #timers = new Map<string, () => void>();
  /** Looks taken by the backstop since the incident's last notification: the next one backs off. */
  readonly #looks = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /**
   * When a waiting incident looks again: when its condition ends if that is known (a cooldown); every
   * RECHECK_MAX_MS while the breaker is open (only an operator's reset moves it, and the reset wakes it at once);
   * otherwise after RECHECK_MIN_MS, doubling with each look that changed nothing, up to RECHECK_MAX_MS.
   */
  recheckAt(id: string, reason: string, until?: number): number {
    const now = this.clock.now();
    if (until !== undefined && until > now) return until;
    if (reason === 'breaker_open') return now + RECHECK_MAX_MS;
    return now + Math.min(RECHECK_MAX_MS, RECHECK_MIN_MS * 2 ** (this.#looks.get(id) ?? 0));
  }

  /** The backstop fired for this incident: its next look backs off. */
  looked(id: string): void {
    this.#looks.set(id, (this.#looks.get(id) ?? 0) + 1);
  }

  /** A notification or an operator woke it, or it closed: the backoff starts over. */
  forgetLooks(id: string): void {
    this.#looks.delete(id);
  }

  /** Runs `fn` at `at` (replacing the incident's timer). */
  set(id: string, at: number, fn: () => void): void {
    this.cancel(id);
    const cancel = this.clock.setTimer(
      () => {
        this.#timers.delete(id);
        fn();
      },
      Math.max(0, at - this.clock.now()),
    );
    this.#timers.set(id, cancel);
  }

  cancel(id: string): void {
    this.#timers.get(id)?.();
    this.#timers.delete(id);
  }

  cancelAll(): void {
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }
}
