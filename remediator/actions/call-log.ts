import type { ActionResult } from './action.js';

/**
 * The human-readable list of every outside call an action makes (ActionResult.calls). Reads are always made, dry-run
 * or not (they touch nothing); mutating calls are only recorded as "would ..." in dry-run, and the caller checks
 * `dryRun` before making them.
 */
export class CallLog {
  readonly calls: string[] = [];

  constructor(readonly dryRun: boolean) {}

  /** A call that changes nothing (inspect, list, /proc read, GET). */
  read(description: string): void {
    this.calls.push(description);
  }

  /**
   * A call that changes something. Returns true when it should really be made now (not dry-run); in dry-run it is
   * recorded as what would be made.
   */
  write(description: string): boolean {
    this.calls.push(this.dryRun ? `would ${description}` : description);
    return !this.dryRun;
  }

  /** The action's result, carrying every call recorded so far. */
  result(outcome: ActionResult['outcome'], detail: string, before?: Record<string, unknown>): ActionResult {
    return { outcome, detail, calls: this.calls, ...(before ? { before } : {}) };
  }
}
