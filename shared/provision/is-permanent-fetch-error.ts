import { OllamaError } from '../ollama/ollama-error.js';
import type { FetchStage } from './provision-error.js';

/**
 * Ollama's words for failures that a retry cannot fix. An unknown model arrives as HTTP 200 plus
 * `{"error":"pull model manifest: file does not exist"}` (#4280, #5499); a private registry answers 401/403 or
 * "manifest unknown".
 */
const PERMANENT_MESSAGE = /file does not exist|manifest unknown|invalid model name|invalid reference|unauthori[sz]ed|\b401\b|\b403\b|forbidden|denied/i;
/** Create is a local, deterministic step; only these look like a passing network or server hiccup. */
const TRANSIENT_CREATE_MESSAGE = /max retries exceeded|EOF|timeout|timed out|connection|temporar|try again|busy/i;

/**
 * Whether a failed pull, create or presence check should be given up on at once. Everything network-shaped
 * (refused, reset, stalled, truncated, 5xx, 429, "max retries exceeded: EOF") is retried; Ollama resumes pulls.
 */
export function isPermanentFetchError(err: unknown, stage: FetchStage): boolean {
  if (!(err instanceof OllamaError)) return false;
  const http = /^http_(\d{3})$/.exec(err.reason);
  if (http) {
    const status = Number(http[1]);
    return status >= 400 && status < 500 && status !== 408 && status !== 429;
  }
  switch (err.reason) {
    case 'config':
    case 'tls':
      return true;
    case 'stream_error':
      if (PERMANENT_MESSAGE.test(err.message)) return true;
      return stage === 'create' && !TRANSIENT_CREATE_MESSAGE.test(err.message);
    default:
      return false;
  }
}
