import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ExporterConfig } from '../exporter-section.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import { OllamaError } from '../../shared/ollama/ollama-error.js';
import { psBlocksDuringLoad } from '../../shared/ollama/ollama-version.js';
import type { RunningModel } from '../../shared/ollama/parse-ps.js';
import type { LocalModel } from '../../shared/ollama/parse-tags.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

export const OLLAMA_STAGES = ['head', 'version', 'ps', 'tags'] as const;
export type OllamaStage = (typeof OLLAMA_STAGES)[number];

export interface StageOutcome {
  readonly ok: boolean;
  readonly durationSeconds: number;
  /** OllamaError reason when it failed ("refused", "timeout", "http_500", ...). */
  readonly reason?: string;
  readonly message?: string;
}

/** A loaded model as /api/ps reported it, with expiry measured against the collector's clock. */
export interface LoadedModel {
  /** Configured name when the model is configured, else the name /api/ps reports. */
  readonly model: string;
  readonly sizeBytes: number;
  readonly vramBytes: number;
  /** size_vram / size; null when size is 0 (the CLI shows "Unknown"). */
  readonly vramRatio: number | null;
  /** Negative: the unload is overdue (stuck "Stopping"). Null when expires_at is absent or unparsable. */
  readonly expiresInSeconds: number | null;
  /**
   * Ollama has not set this runner's expiry yet: it is still loading (0.12 lists a loading runner) or on its first
   * request. /api/ps then reports now + keep_alive (server/routes.go PsHandler in 0.12, sched.go loadedModels in
   * 0.33), so expires_at moved with the clock since the previous read; a set expiry stays put. Null: not known yet
   * (first read of this model, no expires_at).
   */
  readonly expiryUnset: boolean | null;
  readonly stopping: boolean;
  readonly contextLength: number | null;
  readonly configured: boolean;
  /**
   * `sha256-<hex>` of the model's weights blob, from /api/show's modelfile `FROM <models>/blobs/sha256-<hex>`
   * (server/images.go Model.String, 0.12 and 0.33), which is the runner's `--model` path: it joins the model to its
   * runner process. Null until /api/show answered for this digest.
   */
  readonly blob: string | null;
}

export interface ConfiguredModelState {
  readonly model: string;
  /** Listed by /api/tags (null: tags failed). */
  readonly present: boolean | null;
  /** Listed by /api/ps (null: ps failed). */
  readonly loaded: boolean | null;
  readonly keepWarm: boolean;
  readonly minVramRatio: number;
}

export interface OllamaTargetSnapshot {
  readonly target: string;
  /** HEAD / answered 2xx. */
  readonly up: boolean;
  readonly stages: Readonly<Record<OllamaStage, StageOutcome>>;
  /** This collection's /api/version; the last known one when the call failed (null: never known). */
  readonly version: string | null;
  /**
   * /api/ps timed out on a server >= 0.32.4 while HEAD answered: it blocks during a cold load (sched.go loadedModels
   * takes the loading runner's refMu), so this is evidence of a load, not an error (not counted in stageErrors).
   */
  readonly psBlockedByLoad: boolean;
  /** Null when /api/ps failed. */
  readonly loaded: readonly LoadedModel[] | null;
  /** Null when /api/tags failed. */
  readonly available: readonly LocalModel[] | null;
  readonly configured: readonly ConfiguredModelState[];
  /** Stage failures seen by this collector instance, by stage and reason (monotonic). */
  readonly stageErrors: Readonly<Record<string, number>>;
}

export interface OllamaSnapshot {
  readonly atMs: number;
  readonly targets: readonly OllamaTargetSnapshot[];
}

/** The client calls the collector needs; tests and the remediator may pass their own. */
export type OllamaHealthApi = Pick<OllamaClient, 'head' | 'version' | 'ps' | 'tags'> &
  Partial<Pick<OllamaClient, 'show'>>;

/**
 * Per target: the last known version, the weights blob per model digest (a digest's blob never changes), and the
 * previous /api/ps read's expires_at per model (name and digest), with when it was read.
 */
interface TargetMemory {
  version: string | null;
  readonly blobs: Map<string, string | null>;
  expiries: Map<string, { readonly expiresAtMs: number; readonly readAtMs: number }>;
}

export interface OllamaCollectorDeps {
  readonly clientFor?: (target: OllamaTargetConfig, timeoutMs: number) => OllamaHealthApi;
}

/** Headroom between the per-call deadline and the scheduler's kill, so slow targets show up as failed stages. */
const RUN_MARGIN_MS = 1000;

/**
 * The "ollama" collector: per target and run, HEAD /, /api/version, /api/ps and /api/tags in parallel, each under
 * `ollama_timeout_ms`. A failing stage or target never fails the run: it becomes stage_success 0 with a reason, so a
 * server whose HEAD works while /api/ps hangs stays visible, and other targets keep their series.
 */
export function createOllamaCollector(
  targets: readonly OllamaTargetConfig[],
  models: readonly ModelConfig[],
  cfg: Pick<ExporterConfig, 'ollama_interval_ms' | 'ollama_timeout_ms'>,
  deps: OllamaCollectorDeps = {},
): Collector<OllamaSnapshot> {
  const makeClient = deps.clientFor ?? ((t, timeoutMs) => new OllamaClient(t, { timeoutMs }));
  const clients = targets.map((t) => ({ target: t, api: makeClient(t, cfg.ollama_timeout_ms) }));
  const errorCounts = new Map<string, Map<string, number>>(targets.map((t) => [t.name, new Map()]));
  const memory = new Map<string, TargetMemory>(
    targets.map((t) => [t.name, { version: null, blobs: new Map(), expiries: new Map() }]),
  );

  return {
    name: 'ollama',
    intervalMs: cfg.ollama_interval_ms,
    timeoutMs: cfg.ollama_timeout_ms + RUN_MARGIN_MS,
    async collect(ctx: CollectContext): Promise<OllamaSnapshot> {
      const results = await Promise.all(
        clients.map(({ target, api }) =>
          collectTarget(
            target,
            api,
            modelsFor(models, target.name),
            ctx,
            errorCounts.get(target.name)!,
            memory.get(target.name)!,
          ),
        ),
      );
      if (ctx.signal.aborted)
        throw new CollectError('timeout', 'ollama collection aborted', { cause: ctx.signal.reason });
      return { atMs: ctx.now(), targets: results };
    },
    render: renderOllamaSnapshot,
  };
}

function modelsFor(models: readonly ModelConfig[], target: string): ModelConfig[] {
  return models.filter((m) => m.targets.length === 0 || m.targets.includes(target));
}

async function collectTarget(
  target: OllamaTargetConfig,
  api: OllamaHealthApi,
  models: readonly ModelConfig[],
  ctx: CollectContext,
  errors: Map<string, number>,
  mem: TargetMemory,
): Promise<OllamaTargetSnapshot> {
  const call = { signal: ctx.signal };
  const [head, version, ps, tags] = await Promise.all([
    stage(ctx, () => api.head(call)),
    stage(ctx, () => api.version(call)),
    stage(ctx, () => api.ps(call)),
    stage(ctx, () => api.tags(call)),
  ]);
  const stages = { head: head.outcome, version: version.outcome, ps: ps.outcome, tags: tags.outcome };
  if (version.value) mem.version = version.value;
  const psBlockedByLoad =
    head.outcome.ok && ps.outcome.reason === 'timeout' && mem.version !== null && psBlocksDuringLoad(mem.version);
  // A run cut by the scheduler is discarded: its failures say nothing about the server.
  for (const name of ctx.signal.aborted ? [] : OLLAMA_STAGES) {
    const o = stages[name];
    if (!o.ok && !(name === 'ps' && psBlockedByLoad)) {
      const key = `${name}|${o.reason}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  }

  if (ps.value && api.show) await learnBlobs(api.show.bind(api), ps.value, mem.blobs, ctx);
  const now = ctx.now();
  const byKey = new Map(models.map((m) => [modelNameKey(m.name), m]));
  const loaded =
    ps.value?.map((r) => {
      const unset = expiryUnset(mem.expiries.get(expiryKey(r)), r, now);
      return toLoaded(r, byKey, now, mem.blobs.get(r.digest) ?? null, unset);
    }) ?? null;
  if (ps.value)
    mem.expiries = new Map(
      ps.value.flatMap((r) =>
        r.expiresAtMs === undefined ? [] : [[expiryKey(r), { expiresAtMs: r.expiresAtMs, readAtMs: now }] as const],
      ),
    );
  const loadedKeys = new Set(ps.value?.map((r) => modelNameKey(r.name)));
  const presentKeys = new Set(tags.value?.map((t) => modelNameKey(t.name)));
  const configured = models.map((m) => ({
    model: m.name,
    present: tags.value ? presentKeys.has(modelNameKey(m.name)) : null,
    loaded: ps.value ? loadedKeys.has(modelNameKey(m.name)) : null,
    keepWarm: m.keep_warm,
    minVramRatio: m.min_vram_ratio,
  }));

  return {
    target: target.name,
    up: head.outcome.ok,
    stages,
    version: mem.version,
    psBlockedByLoad,
    loaded,
    available: tags.value ?? null,
    configured,
    stageErrors: Object.fromEntries(errors),
  };
}

async function stage<T>(ctx: CollectContext, fn: () => Promise<T>): Promise<{ outcome: StageOutcome; value?: T }> {
  const started = ctx.now();
  try {
    const value = await fn();
    return { outcome: { ok: true, durationSeconds: (ctx.now() - started) / 1000 }, value };
  } catch (err) {
    // Anything but an OllamaError is a bug in this program: let it fail the run loudly.
    if (!(err instanceof OllamaError)) throw err;
    return {
      outcome: { ok: false, durationSeconds: (ctx.now() - started) / 1000, reason: err.reason, message: err.message },
    };
  }
}

const BLOB_RE = /^FROM\s+\S*[/\\]blobs[/\\](sha256-[0-9a-f]{64})\s*$/m;

/** Reads /api/show once per new digest of a loaded model; a failed call is retried at the next collection. */
async function learnBlobs(
  show: NonNullable<OllamaHealthApi['show']>,
  listed: readonly RunningModel[],
  blobs: Map<string, string | null>,
  ctx: CollectContext,
): Promise<void> {
  const fresh = listed.filter((r) => r.digest !== '' && !blobs.has(r.digest));
  await Promise.all(
    fresh.map(async (r) => {
      try {
        const body = await show(r.name, { signal: ctx.signal });
        if (body === null) return; // deleted since: nothing to cache
        const text = typeof body.modelfile === 'string' ? body.modelfile : '';
        blobs.set(r.digest, BLOB_RE.exec(text)?.[1] ?? null);
      } catch (err) {
        if (!(err instanceof OllamaError)) throw err;
      }
    }),
  );
}

/** A runner's key between two reads: the same name and the same blob (a re-pulled model is another runner). */
function expiryKey(r: Pick<RunningModel, 'name' | 'digest'>): string {
  return `${modelNameKey(r.name)}@${r.digest}`;
}

/**
 * Whether expires_at moved with the clock between two reads (see LoadedModel.expiryUnset). Half the gap absorbs when
 * in its collection each read was answered; a set expiry moves by nothing (or jumps once, when a request ends).
 */
export function expiryUnset(
  prev: { readonly expiresAtMs: number; readonly readAtMs: number } | undefined,
  r: Pick<RunningModel, 'expiresAtMs'>,
  now: number,
): boolean | null {
  if (prev === undefined || r.expiresAtMs === undefined) return null;
  const gap = now - prev.readAtMs;
  if (gap < 1000) return null;
  return Math.abs(r.expiresAtMs - prev.expiresAtMs - gap) <= gap / 2;
}

function toLoaded(
  r: RunningModel,
  configured: Map<string, ModelConfig>,
  now: number,
  blob: string | null,
  unset: boolean | null,
): LoadedModel {
  const cfg = configured.get(modelNameKey(r.name));
  const expiresInSeconds = r.expiresAtMs !== undefined ? (r.expiresAtMs - now) / 1000 : null;
  return {
    model: cfg?.name ?? r.name,
    sizeBytes: r.size,
    vramBytes: r.size_vram,
    vramRatio: r.size > 0 ? r.size_vram / r.size : null,
    expiresInSeconds,
    expiryUnset: unset,
    stopping: expiresInSeconds !== null && expiresInSeconds <= 0,
    contextLength: r.context_length ?? null,
    configured: cfg !== undefined,
    blob,
  };
}

const H = {
  up: 'Whether the Ollama HTTP server answers HEAD / (1) or not (0). It keeps answering while inference hangs: see sentinel_probe_*.',
  stage:
    'Whether the last call of this stage (head = HEAD /, version = /api/version, ps = /api/ps, tags = /api/tags) succeeded.',
  stageDuration: 'Duration of the last call of this stage, in seconds.',
  stageErrors:
    'Failed calls by stage and bounded reason (refused, timeout, dns, tls, reset, http_<code>, bad_json, ...).',
  info: 'Ollama server version from /api/version (always 1).',
  loaded: 'Whether the model is loaded per /api/ps (1) or not (0); 0 is published for configured models only.',
  loadedCount: 'Number of models /api/ps lists as loaded.',
  size: 'Memory footprint of the loaded model (weights + KV cache + graph) per /api/ps, fixed at load time, in bytes.',
  vram: 'Bytes of the loaded model placed in VRAM per /api/ps (size_vram), fixed at load time; 0 = running on the CPU.',
  ratio: 'size_vram / size of the loaded model: 1 = fully on GPU, 0 = CPU only, in between = partial offload.',
  expires: 'Seconds until Ollama unloads the model (expires_at); negative = the unload is overdue (stuck "Stopping").',
  stopping: 'Whether the loaded model is past its expires_at, shown by the CLI as "Stopping..." (1) or not (0).',
  context: 'Context length the model was loaded with, per /api/ps (Ollama >= 0.10 only).',
  present: 'Whether the configured model is in the local store per /api/tags (1) or missing (0).',
  available: 'Number of models in the local store per /api/tags.',
};

/** Series of one snapshot; a missing stage omits its series rather than inventing zeros. */
export function renderOllamaSnapshot(snapshot: OllamaSnapshot, sink: MetricSink): void {
  for (const t of snapshot.targets) {
    const target = t.target;
    sink.gauge('sentinel_ollama_up', H.up, { target }, t.up ? 1 : 0);
    for (const stageName of OLLAMA_STAGES) {
      const o = t.stages[stageName];
      sink.gauge('sentinel_ollama_stage_success', H.stage, { target, stage: stageName }, o.ok ? 1 : 0);
      sink.gauge(
        'sentinel_ollama_stage_duration_seconds',
        H.stageDuration,
        { target, stage: stageName },
        o.durationSeconds,
      );
    }
    for (const [key, n] of Object.entries(t.stageErrors)) {
      const [stageName, reason] = key.split('|') as [string, string];
      sink.counter('sentinel_ollama_stage_errors_total', H.stageErrors, { target, stage: stageName, reason }, n);
    }
    if (t.version !== null) sink.gauge('sentinel_ollama_info', H.info, { target, version: t.version }, 1);

    if (t.loaded !== null) {
      sink.gauge('sentinel_ollama_models_loaded', H.loadedCount, { target }, t.loaded.length);
      const seen = new Set<string>();
      for (const m of t.loaded) {
        if (seen.has(m.model)) continue; // one series per label set, even if a server lists a name twice
        seen.add(m.model);
        const l = { target, model: m.model };
        sink.gauge('sentinel_ollama_model_loaded', H.loaded, l, 1);
        sink.gauge('sentinel_ollama_model_size_bytes', H.size, l, m.sizeBytes);
        sink.gauge('sentinel_ollama_model_vram_bytes', H.vram, l, m.vramBytes);
        if (m.vramRatio !== null) sink.gauge('sentinel_ollama_model_vram_ratio', H.ratio, l, m.vramRatio);
        if (m.expiresInSeconds !== null)
          sink.gauge('sentinel_ollama_model_expires_in_seconds', H.expires, l, m.expiresInSeconds);
        sink.gauge('sentinel_ollama_model_stopping', H.stopping, l, m.stopping ? 1 : 0);
        if (m.contextLength !== null) sink.gauge('sentinel_ollama_model_context_length', H.context, l, m.contextLength);
      }
      for (const c of t.configured) {
        if (c.loaded === false && !seen.has(c.model))
          sink.gauge('sentinel_ollama_model_loaded', H.loaded, { target, model: c.model }, 0);
      }
    }
    if (t.available !== null) {
      sink.gauge('sentinel_ollama_models_available', H.available, { target }, t.available.length);
      for (const c of t.configured)
        sink.gauge('sentinel_ollama_model_present', H.present, { target, model: c.model }, c.present ? 1 : 0);
    }
  }
}
