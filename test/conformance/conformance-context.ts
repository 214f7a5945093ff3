import type { ConformanceClient } from './conformance-client.js';

/** What the operator told the check (the command line) — everything a client cannot learn over HTTP. */
export interface ConformanceOptions {
  /** Base URL of the Ollama server, e.g. http://127.0.0.1:11434. */
  readonly ollama: string;
  /** A small local completion model; default: the smallest one /api/tags lists. */
  readonly model?: string;
  /** OLLAMA_NUM_PARALLEL of the server (row 1 needs it to saturate the runner's slots). */
  readonly numParallel?: number;
  /** Total GPU memory in GiB, less OLLAMA_GPU_OVERHEAD (row 9: the default context tier). */
  readonly gpuVramGib?: number;
  /** OLLAMA_CONTEXT_LENGTH when the server sets it (row 9: it replaces the VRAM tier). */
  readonly contextLength?: number;
  /** A tiny model that is NOT local and can be pulled (row 11: create pulls it as the base). */
  readonly createBase?: string;
  /** A model too big for this machine (row 5 with --destructive: its load must fail with an OOM text). */
  readonly oomModel?: string;
  /** Read /proc on this host (row 7; row 3 with --destructive). */
  readonly proc: boolean;
  /** Allow checks that break things on purpose (row 3 kills a runner, row 5 provokes an OOM). */
  readonly destructive: boolean;
  /** Rows to run (default 1-13). */
  readonly rows: readonly number[];
  /** Upper bound of each row, seconds (default 90). */
  readonly rowTimeoutS: number;
  /** The `ollama serve` process (rows 3 and 7); default: the process listening on the URL's port here. */
  readonly serverPid?: number;
  /** /proc root (tests). */
  readonly procRoot?: string;
  /** How long row 1 watches the extra request and row 4 the unloading model, ms (default 3000; tests shorten it). */
  readonly observeMs?: number;
  /** The short keep_alive of row 2, seconds (default 3; tests shorten it). */
  readonly keepAliveS?: number;
}

export type RowStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface RowResult {
  readonly row: number;
  readonly title: string;
  readonly status: RowStatus;
  /** FAIL: what the real server does (from its source). */
  readonly expected?: string;
  /** FAIL: what this server did; PASS: what was seen, briefly. */
  readonly seen?: string;
  /** SKIP: why it could not be checked here. */
  readonly reason?: string;
  /** Where the expectation comes from in Ollama's source. */
  readonly source: string;
  readonly ms: number;
}

/** The outcome a row's check returns (the runner adds row, title, source and time). */
export type RowOutcome =
  | { readonly status: 'PASS'; readonly seen: string }
  | { readonly status: 'FAIL'; readonly expected: string; readonly seen: string }
  | { readonly status: 'SKIP'; readonly reason: string };

export const pass = (seen: string): RowOutcome => ({ status: 'PASS', seen });
export const fail = (expected: string, seen: string): RowOutcome => ({ status: 'FAIL', expected, seen });
export const skip = (reason: string): RowOutcome => ({ status: 'SKIP', reason });

/** Shared by the rows of one run. */
export interface ConformanceContext {
  readonly options: ConformanceOptions;
  readonly client: ConformanceClient;
  /** The server's /api/version, parsed ([0,33,0] for "0.33.0-rc2"); null when unparsable (a dev build). */
  readonly version: readonly number[] | null;
  readonly versionText: string;
  /** The model the rows use. */
  readonly model: string;
  /** Aborted when the row's time is up: every request of the row listens to it. */
  readonly signal: AbortSignal;
  /** Models this run loaded (unloaded at the end unless they were resident before). */
  readonly loaded: Set<string>;
  /** Models this run created or pulled (deleted at the end). */
  readonly created: Set<string>;
}

export interface RowCheck {
  readonly row: number;
  readonly title: string;
  /** File and function in Ollama's source (v0.33.0-rc2 unless said otherwise) the expectation was read in. */
  readonly source: string;
  /** Its own upper bound, seconds, when longer than --row-timeout-s (a pull). */
  readonly timeoutS?: number;
  /** False for rows that use no local model. */
  readonly needsModel?: boolean;
  run(ctx: ConformanceContext): Promise<RowOutcome>;
}

export function parseVersion(text: string): number[] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** version >= [major, minor, patch]. */
export function versionAtLeast(version: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) {
    const a = version[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Polls `probe` every `everyMs` until it returns a value or `withinMs` passes (undefined) or the row is aborted. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  withinMs: number,
  everyMs: number,
  signal: AbortSignal,
): Promise<T | undefined> {
  const end = Date.now() + withinMs;
  while (!signal.aborted) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= end) return undefined;
    await sleep(everyMs, signal);
  }
  return undefined;
}
