import type { BookSnapshot } from '../incidents/incident-book.js';
import { emptySafetyState, type SafetyState } from '../policy/safety-state.js';

/**
 * Everything that must survive a restart, in one file written atomically. Version 2 remembers every alert seen
 * apart from the incidents (`book.alerts`); version 1 (0.1.0) files load too (see IncidentBook), and 0.1.0 refuses
 * version 2 by name instead of forgetting what it cannot read.
 */
export interface PersistedState {
  readonly version: 2;
  readonly savedAt: number;
  /** Last journal record applied to the incidents: replay starts after it. */
  readonly appliedSeq: number;
  readonly book: BookSnapshot;
  readonly safety: SafetyState;
}

export function emptyState(): PersistedState {
  return {
    version: 2,
    savedAt: 0,
    appliedSeq: 0,
    book: { incidents: [], alerts: [] },
    safety: emptySafetyState(),
  };
}

/** Checks the shape a future or damaged file must have; throws with the reason (the operator must look). */
export function parsePersistedState(text: string): PersistedState {
  const s = JSON.parse(text) as Omit<Partial<PersistedState>, 'version'> & { version?: unknown };
  if (s.version !== 1 && s.version !== 2) throw new Error(`unsupported state version ${JSON.stringify(s.version)}`);
  if (
    !Number.isInteger(s.appliedSeq) ||
    !s.book ||
    !Array.isArray(s.book.incidents) ||
    !(Array.isArray(s.book.alerts) || Array.isArray(s.book.closedAlerts)) ||
    !s.safety?.breaker ||
    typeof s.safety.cooldowns !== 'object'
  ) {
    throw new Error('state file lacks appliedSeq, book or safety');
  }
  // A version 1 book is read as it is (IncidentBook takes its closedAlerts); it is written back as version 2.
  return { ...s, version: 2 } as PersistedState;
}
