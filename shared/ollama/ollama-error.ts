/**
 * Every failure of an Ollama call, with a bounded `reason` fit for a metric label:
 * refused | dns | reset | unreachable | tls | network | timeout | load_timeout | first_token_timeout | stalled |
 * aborted | http_<code> | bad_json | stream_error | truncated | config.
 */
export class OllamaError extends Error {
  /** HTTP status when the server answered (also for stream errors, which arrive with the original 200). */
  readonly status?: number;

  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'OllamaError';
    if (options?.status !== undefined) this.status = options.status;
  }
}
