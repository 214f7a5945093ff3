import type { BookSnapshot } from '../incidents/incident-book.js';
import { emptySafetyState, type SafetyState } from '../policy/safety-state.js';

/** Everything that must survive a restart, in one file written atomically. */
export interface PersistedState {
  readonly version: 1;
  readonly savedAt: number;
  /** Last journal record applied to the incidents: replay starts after it. */
  readonly appliedSeq: number;
  readonly book: BookSnapshot;
  readonly safety: SafetyState;
}

export function emptyState(): PersistedState {
  return {
    version: 1,
    savedAt: 0,
    appliedSeq: 0,
    book: { incidents: [], closedAlerts: [] },
    safety: emptySafetyState(),
  };
}

/** Checks the shape a future or damaged file must have; throws with the reason (the operator must look). */
export function parsePersistedState(text: string): PersistedState {
  const s = JSON.parse(text) as Partial<PersistedState>;
  if (s.version !== 1) throw new Error(`unsupported state version ${JSON.stringify(s.version)}`);
  if (
    !Number.isInteger(s.appliedSeq) ||
    !s.book ||
    !Array.isArray(s.book.incidents) ||
    !Array.isArray(s.book.closedAlerts) ||
    !s.safety?.breaker ||
    typeof s.safety.cooldowns !== 'object'
  ) {
    throw new Error('state file lacks appliedSeq, book or safety');
  }
  return s as PersistedState;
}
