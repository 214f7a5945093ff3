import { waitFor } from './wait-for.js';

export interface UrlResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface WaitForUrlOptions {
  intervalMs?: number;
  /** Which answer counts as ready; default: any 2xx status. */
  accept?: (response: UrlResponse) => boolean;
  /** fetch options (method, headers, body) for each attempt. */
  init?: RequestInit;
}

/** Polls `url` until it answers acceptably (default 2xx) and returns that answer. */
export async function waitForUrl(
  url: string,
  timeoutMs: number,
  options: WaitForUrlOptions = {},
): Promise<UrlResponse> {
  const accept = options.accept ?? ((response: UrlResponse) => response.status >= 200 && response.status < 300);
  let lastStatus = '';
  const deadline = Date.now() + timeoutMs;
  try {
    return await waitFor(
      async () => {
        // Each attempt is bounded too: a server that accepts but never answers must not eat the budget.
        const attemptMs = Math.max(100, Math.min(2000, deadline - Date.now()));
        const response = await fetch(url, { ...options.init, signal: AbortSignal.timeout(attemptMs) });
        const answer = { status: response.status, headers: response.headers, body: await response.text() };
        lastStatus = `HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
        return accept(answer) ? answer : undefined;
      },
      { timeoutMs, intervalMs: options.intervalMs ?? 100, what: url },
    );
  } catch (error) {
    if (lastStatus === '') throw error;
    throw new Error(`${(error as Error).message}; last answer: ${lastStatus}`, { cause: error });
  }
}
