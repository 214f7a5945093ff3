import { OllamaError } from './ollama-error.js';

/**
 * One abortable phase clock for a request: `arm` (re)starts the timer with the failure it stands for, so a single
 * AbortSignal can carry "load timed out", "first token timed out" or "stalled" as the request moves on. A caller's
 * signal aborts it too, with reason "aborted".
 */
export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort: () => void;

  constructor(private readonly caller?: AbortSignal) {
    this.onCallerAbort = () =>
      this.abort(new OllamaError('aborted', 'request aborted by caller', { cause: caller?.reason }));
    if (caller?.aborted) this.onCallerAbort();
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The failure that aborted the request, if any. */
  get failure(): OllamaError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as OllamaError) : undefined;
  }

  /** `keepGoing`, asked when the time is up: true arms the same phase once more instead of failing it. */
  arm(ms: number, reason: string, message: string, keepGoing?: () => boolean): void {
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(
      () => (keepGoing?.() ? this.arm(ms, reason, message, keepGoing) : this.abort(new OllamaError(reason, message))),
      Math.max(0, ms),
    );
  }

  abort(error: OllamaError): void {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort(error);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}
