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

/** One line for an error in `detail`: dockerode puts the daemon's message in `json.message`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const json = (err as { json?: { message?: unknown } }).json;
    const daemon = json && typeof json.message === 'string' ? json.message : undefined;
    const status = (err as { statusCode?: unknown }).statusCode;
    if (daemon) return typeof status === 'number' ? `HTTP ${status}: ${daemon}` : daemon;
    return err.message.split('\n')[0]!;
  }
  return String(err);
}
