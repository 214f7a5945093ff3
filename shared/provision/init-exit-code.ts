import { INIT_EXIT } from './init-exit-codes.js';
import type { TargetOutcome } from './init-outcome.js';

/** The exit code for a finished run: the lowest code among the failures (the earliest step that went wrong). */
export function initExitCode(targets: readonly TargetOutcome[]): number {
  const codes: number[] = [];
  for (const t of targets) {
    if (!t.wait.ok) codes.push(INIT_EXIT.UNREACHABLE);
    for (const m of t.models) {
      if (m.fetch && !m.fetch.ok) codes.push(INIT_EXIT.FETCH_FAILED);
      if (m.verify && !m.verify.ok) codes.push(INIT_EXIT.VERIFY_FAILED);
      if (m.check && !m.check.ok) codes.push(INIT_EXIT.CHECK_UNSATISFIED);
    }
  }
  return codes.length === 0 ? INIT_EXIT.OK : Math.min(...codes);
}
