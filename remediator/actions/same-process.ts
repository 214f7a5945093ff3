import type { ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { KillCandidate } from './select-kill-candidates.js';

/**
 * Pure: is `now` (just re-read from /proc) still the process chosen at discovery? The start time (stat field 22)
 * catches PID reuse; exe, argv and container catch an exec or a zombie (empty argv) in between.
 */
export function sameProcess(chosen: KillCandidate, now: ProcessIdentity | null): boolean {
  if (now === null) return false;
  return (
    now.pid === chosen.pid &&
    now.startTime === chosen.startTime &&
    now.exe === chosen.exe &&
    now.containerId === chosen.containerId &&
    now.argv.length === chosen.argv.length &&
    now.argv.every((a, i) => a === chosen.argv[i])
  );
}
