import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';
import type { GenerateResult, OllamaClient } from '../../shared/ollama/ollama-client.js';
import { OllamaError } from '../../shared/ollama/ollama-error.js';
import type { CollectContext } from '../collector.js';
import type { ExporterConfig } from '../exporter-section.js';
import type { ProbeModelSnapshot, ProbeResult } from './probe-snapshot.js';

// One probe request of the probe collector, and how its outcome is classified.

export type ProbeApi = Pick<OllamaClient, 'ps' | 'generate'>;

export type ProbeConfig = Pick<
  ExporterConfig,
  | 'probe_interval_ms'
  | 'probe_load_timeout_ms'
  | 'probe_first_token_timeout_ms'
  | 'probe_prompt'
  | 'ollama_timeout_ms'
  | 'probe_oom_hold_ms'
>;

/**
 * A probe turns pending this long after its first-token deadline (counted from the request, and again from every
 * chunk): a resident model's probe gets the first-token deadline as its load deadline, so it always ends (as ok or
 * timeout) before then and never flickers through pending; only a probe waiting on the longer load deadline does.
 */
const PENDING_GRACE_MS = 1000;

/** A cold load that keeps making progress is waited for this many load deadlines at most (30 min at the default). */
export const LOAD_DEADLINES_MAX = 6;

type RunContext = Pick<CollectContext, 'signal' | 'now'>;

export type Outcome = Omit<
  ProbeModelSnapshot,
  | 'result'
  | 'consecutiveFailures'
  | 'lastSuccessMs'
  | 'runs'
  | 'coldLoads'
  | 'coldLoadSeconds'
  | 'atMs'
  | 'inFlightSinceMs'
  | 'busySinceMs'
> & { readonly result: ProbeResult; readonly durationSeconds: number };

/**
 * Models resident and not stopping: names (lower-cased, normalised) to their expires_at (ms; null when /api/ps gave
 * none); null when /api/ps fails.
 */
export async function residentModels(api: ProbeApi, ctx: RunContext): Promise<Resident | null> {
  try {
    const ps = await api.ps({ signal: ctx.signal });
    const now = ctx.now();
    return new Map(
      ps
        .filter((m) => m.expiresAtMs === undefined || m.expiresAtMs > now)
        .map((m) => [modelNameKey(m.name), m.expiresAtMs ?? null]),
    );
  } catch (err) {
    if (err instanceof OllamaError) return null; // unknown: give the probe the (longer) load deadline
    throw err;
  }
}

export type Resident = ReadonlyMap<string, number | null>;

/**
 * Whether the model is loading under a waiting probe, from two /api/ps reads a third of the deadline apart while the
 * probe's request is in flight: a request holds a reference on a resident runner, which freezes its expires_at
 * (sched.go useLoadedRunner) whoever else comes and goes, so a hung runner reads the same twice; a model that is
 * loading reads "now + keep_alive" (loadedModels), which moves, or is not listed yet (0.32.4+). A model unloaded
 * (keep_alive, eviction) after the round's /api/ps read and loaded again by this very request looks so. So does a
 * runner on its very first request (expires_at is set when a request ends): the caller asks the runner snapshots.
 * False when /api/ps does not answer.
 */
async function loadingMeanwhile(api: ProbeApi, ctx: RunContext, key: string, gapMs: number): Promise<boolean> {
  const first = await residentModels(api, ctx);
  await new Promise((resolve) => setTimeout(resolve, gapMs));
  const second = await residentModels(api, ctx);
  if (first === null || second === null) return false;
  return !first.has(key) || !second.has(key) || first.get(key) !== second.get(key);
}

export async function probeOne(
  target: OllamaTargetConfig,
  api: ProbeApi,
  model: ModelConfig,
  resident: Resident | null,
  provenResident: boolean | null,
  cfg: ProbeConfig,
  ctx: RunContext,
  onPending: (wasLoaded: boolean | null) => void,
  /** Whether runner snapshots show the model's runner done loading (idle, not working) while the probe waited. */
  runnerSettled: () => Promise<boolean> = async () => false,
  /** Whether the runner a cold load started made progress within the last load deadline (runner snapshots). */
  loadProgressing: () => boolean = () => false,
): Promise<Outcome> {
  const nameKey = modelNameKey(model.name);
  const wasLoaded = resident === null ? null : resident.has(nameKey);
  const fields = modelRequestFields(model);
  const started = ctx.now();
  const base = { target: target.name, model: model.name, wasLoaded };
  const loadTimeoutMs = provenResident ? cfg.probe_first_token_timeout_ms : cfg.probe_load_timeout_ms;
  const pendingAfterMs = cfg.probe_first_token_timeout_ms + PENDING_GRACE_MS;
  let pendingTimer: NodeJS.Timeout | undefined;
  // Only a probe allowed to wait longer than a warm model needs can turn pending; the others end by then.
  const armPending = (): void => {
    clearTimeout(pendingTimer);
    if (loadTimeoutMs > pendingAfterMs) pendingTimer = setTimeout(() => onPending(wasLoaded), pendingAfterMs);
  };
  armPending();
  // A third of the way to a resident model's deadline, while its request still waits: is the model loading?
  let loading: Promise<boolean> | undefined;
  const loadingTimer =
    provenResident === true
      ? setTimeout(() => {
          loading = loadingMeanwhile(api, ctx, nameKey, loadTimeoutMs / 3).catch(() => false);
        }, loadTimeoutMs / 3)
      : undefined;
  try {
    const r: GenerateResult = await api.generate(
      // num_predict is a predict option, not a runner option: it does not make Ollama reload the model.
      { ...fields, prompt: cfg.probe_prompt, options: { ...fields.options, num_predict: 1 } },
      {
        signal: ctx.signal,
        loadTimeoutMs,
        // A cold load still making progress is waited for (up to LOAD_DEADLINES_MAX deadlines): giving up would make
        // Ollama abort it, and the next probe would start it again from nothing, for ever on a slow disk.
        ...(provenResident === true
          ? {}
          : {
              loadGoesOn: () => ctx.now() - started < (LOAD_DEADLINES_MAX - 1) * loadTimeoutMs && loadProgressing(),
            }),
        firstTokenTimeoutMs: cfg.probe_first_token_timeout_ms,
        onChunk: armPending,
      },
    );
    const f = r.final;
    return {
      ...base,
      result: 'ok',
      ttfbSeconds: r.firstChunkMs >= 0 ? r.firstChunkMs / 1000 : null,
      durationSeconds: r.totalMs / 1000,
      loadDurationSeconds: typeof f.load_duration === 'number' ? f.load_duration / 1e9 : null,
      tokensPerSecond: rate(f.eval_count, f.eval_duration),
    };
  } catch (err) {
    if (!(err instanceof OllamaError)) throw err;
    // A resident model's deadline ran out before the headers: a hung runner, unless this request had to load it again
    // and that load is not seen to be over (a runner that loaded at once and then sat still is hung after all).
    const reloading = err.reason === 'load_timeout' && (await loading) === true && !(await runnerSettled());
    const hung = provenResident === true && !reloading;
    return {
      ...base,
      result: classify(err, hung),
      reason: err.reason,
      message: err.message,
      ttfbSeconds: null,
      durationSeconds: (ctx.now() - started) / 1000,
      loadDurationSeconds: null,
      tokensPerSecond: null,
    };
  } finally {
    clearTimeout(pendingTimer);
    clearTimeout(loadingTimer);
  }
}

function classify(err: OllamaError, hung: boolean): ProbeResult {
  switch (err.reason) {
    case 'load_timeout':
      // A resident model needs no load: silence until headers is a hung runner, not a slow load.
      return hung ? 'timeout' : 'loading';
    case 'first_token_timeout':
    case 'stalled':
      return 'timeout';
    case 'http_503':
      return 'busy';
    case 'http_404':
      return 'not_found';
    default:
      return 'error';
  }
}

function rate(count: unknown, durationNs: unknown): number | null {
  return typeof count === 'number' && typeof durationNs === 'number' && count > 0 && durationNs > 0
    ? (count / durationNs) * 1e9
    : null;
}
