import type { ModelConfig } from '../config/types.js';
import type { OllamaClient, PullProgress } from '../ollama/ollama-client.js';
import { normalizeModelName } from '../ollama/normalize-model-name.js';
import { OllamaError } from '../ollama/ollama-error.js';
import { RetriesFailed, runWithRetries, type BackoffPolicy, type SleepFn } from './run-with-retries.js';

/** The part of OllamaClient provisioning uses (tests and the remediator may pass anything shaped like it). */
export type ProvisionClient = Pick<
  OllamaClient,
  'target' | 'version' | 'show' | 'pull' | 'create' | 'load' | 'unload' | 'ps' | 'generate'
>;

export type FetchStage = 'show' | 'pull' | 'create';

/** A model could not be made present: which step, whether retrying could help, and how many attempts were made. */
export class ProvisionError extends Error {
  constructor(
    readonly model: string,
    readonly stage: FetchStage,
    message: string,
    readonly details: {
      /** Retrying cannot help (unknown model, bad request, authentication). */
      readonly permanent: boolean;
      readonly attempts: number;
      /** OllamaError.reason of the last failure (stream_error, stalled, refused, http_400...). */
      readonly reason: string;
      readonly cause?: unknown;
    },
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'ProvisionError';
  }
}

/** Hooks for progress output; every one is optional so the remediator can pass only a logger-backed subset. */
export interface ProvisionEvents {
  /** A pull or create attempt begins (also each retry). */
  readonly attemptStarted?: (e: { model: string; stage: FetchStage; attempt: number; maxAttempts: number }) => void;
  /** One NDJSON progress line of the running pull or create. */
  readonly progress?: (e: { model: string; stage: FetchStage; progress: PullProgress }) => void;
  /** An attempt failed; `retryInMs` is absent when no retry follows. */
  readonly attemptFailed?: (e: {
    model: string;
    stage: FetchStage;
    attempt: number;
    maxAttempts: number;
    error: Error;
    permanent: boolean;
    retryInMs?: number;
  }) => void;
}

export interface EnsureModelOptions {
  /** Pull (or re-create) even when the model is present: picks up a newer build of the same tag. */
  readonly update?: boolean;
  /** No progress for this long aborts the stream; the next attempt resumes the download. */
  readonly stallTimeoutMs: number;
  /** Retries after the first attempt of each step (presence check, base pull, pull or create). */
  readonly retries: number;
  readonly backoff: BackoffPolicy;
  /** Let Ollama pull over plain HTTP or with an unverified certificate. */
  readonly insecure?: boolean;
  /** Deadline of one /api/show (default: the client's). */
  readonly showTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly events?: ProvisionEvents;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
  readonly now?: () => number;
}

export type EnsureAction = 'present' | 'pulled' | 'created';

export interface EnsureModelResult {
  readonly model: string;
  readonly action: EnsureAction;
  readonly durationMs: number;
  /** Attempts of the pull or create; 0 when the model was present. */
  readonly attempts: number;
  /** For `create:` models that were built: what happened to their `from` model first. */
  readonly base?: {
    readonly model: string;
    readonly action: 'present' | 'pulled';
    readonly durationMs: number;
    readonly attempts: number;
  };
}

/**
 * Makes one configured model present on a target: nothing when /api/show knows it (unless `update`), otherwise a
 * strict pull, or for models with `create:` a pull of the `from` model when missing followed by /api/create.
 * Failures throw ProvisionError (permanent ones after a single attempt); a shutdown rethrows the abort as is.
 */
export async function ensureModel(
  client: ProvisionClient,
  model: ModelConfig,
  opts: EnsureModelOptions,
): Promise<EnsureModelResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  if (!opts.update && (await isPresent(client, model.name, opts))) {
    return { model: model.name, action: 'present', durationMs: now() - started, attempts: 0 };
  }
  if (model.create === undefined) {
    const attempts = await fetchModel(client, model.name, 'pull', opts);
    return { model: model.name, action: 'pulled', durationMs: now() - started, attempts };
  }

  let base: EnsureModelResult['base'];
  const from = baseModelName(model.create.from);
  if (from !== undefined) {
    const baseStarted = now();
    if (!opts.update && (await isPresent(client, from, opts))) {
      base = { model: from, action: 'present', durationMs: now() - baseStarted, attempts: 0 };
    } else {
      const attempts = await fetchModel(client, from, 'pull', opts);
      base = { model: from, action: 'pulled', durationMs: now() - baseStarted, attempts };
    }
  }
  const attempts = await fetchModel(client, model.name, 'create', opts, model.create);
  return { model: model.name, action: 'created', durationMs: now() - started, attempts, ...(base ? { base } : {}) };
}

/** `from` may also be a blob path or something Ollama resolves itself; only a model name gets a base pull. */
function baseModelName(from: string): string | undefined {
  if (from.startsWith('/') || from.startsWith('.') || /\.(gguf|safetensors|bin)$/i.test(from)) return undefined;
  try {
    return normalizeModelName(from);
  } catch {
    return undefined;
  }
}

async function isPresent(client: ProvisionClient, name: string, opts: EnsureModelOptions): Promise<boolean> {
  try {
    const { value } = await runWithRetries(
      () =>
        client.show(name, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.showTimeoutMs !== undefined ? { timeoutMs: opts.showTimeoutMs } : {}),
        }),
      retryOptions(name, 'show', opts),
    );
    return value !== null;
  } catch (err) {
    throw asProvisionError(err, name, 'show', opts);
  }
}

async function fetchModel(
  client: ProvisionClient,
  name: string,
  stage: 'pull' | 'create',
  opts: EnsureModelOptions,
  createBody?: Readonly<Record<string, unknown>>,
): Promise<number> {
  const onProgress = (progress: PullProgress): void => opts.events?.progress?.({ model: name, stage, progress });
  const streamOptions = {
    stallTimeoutMs: opts.stallTimeoutMs,
    onProgress,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  try {
    const { attempts } = await runWithRetries(
      async (attempt) => {
        opts.events?.attemptStarted?.({ model: name, stage, attempt, maxAttempts: opts.retries + 1 });
        if (stage === 'pull')
          await client.pull(name, { ...streamOptions, ...(opts.insecure ? { insecure: true } : {}) });
        else await client.create(name, createBody ?? {}, streamOptions);
      },
      retryOptions(name, stage, opts),
    );
    return attempts;
  } catch (err) {
    throw asProvisionError(err, name, stage, opts);
  }
}

function retryOptions(name: string, stage: FetchStage, opts: EnsureModelOptions): Parameters<typeof runWithRetries>[1] {
  return {
    retries: opts.retries,
    backoff: opts.backoff,
    isPermanent: (err) => isPermanentFetchError(err, stage),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    onFailure: (e) =>
      opts.events?.attemptFailed?.({
        model: name,
        stage,
        attempt: e.attempt,
        maxAttempts: e.maxAttempts,
        error: e.error instanceof Error ? e.error : new Error(String(e.error)),
        permanent: e.permanent,
        ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}),
      }),
  };
}

function asProvisionError(err: unknown, name: string, stage: FetchStage, opts: EnsureModelOptions): unknown {
  if (opts.signal?.aborted) return err;
  if (!(err instanceof RetriesFailed)) return err;
  const last = err.last;
  const reason = last instanceof OllamaError ? last.reason : 'error';
  const what = stage === 'show' ? 'checking whether it is present' : stage;
  const tries = `${err.attempts} attempt${err.attempts === 1 ? '' : 's'}`;
  const why = err.permanent ? 'permanent error, not retried' : `gave up after ${tries}`;
  return new ProvisionError(name, stage, `${what} ${name} failed (${why}): ${err.message}`, {
    permanent: err.permanent,
    attempts: err.attempts,
    reason,
    cause: last,
  });
}

/**
 * Ollama's words for failures that a retry cannot fix. An unknown model arrives as HTTP 200 plus
 * `{"error":"pull model manifest: file does not exist"}` (#4280, #5499); a private registry answers 401/403 or
 * "manifest unknown".
 */
const PERMANENT_MESSAGE =
  /file does not exist|manifest unknown|invalid model name|invalid reference|unauthori[sz]ed|\b401\b|\b403\b|forbidden|denied/i;
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
