import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ExporterConfig } from '../exporter-section.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';
import { OllamaClient, type GenerateResult } from '../../shared/ollama/ollama-client.js';
import { OllamaError } from '../../shared/ollama/ollama-error.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

export const PROBE_RESULTS = ['ok', 'loading', 'busy', 'timeout', 'not_found', 'error'] as const;
/**
 * ok: a token came back in time. loading: the model did not finish loading within probe_load_timeout (cold start).
 * busy: 503, queue full. timeout: loaded (or resident) but no token within probe_first_token_timeout = hung runner.
 * not_found: 404, the model is missing. error: anything else (500 out of memory, refused, stream error...).
 */
export type ProbeResult = (typeof PROBE_RESULTS)[number];

export interface ProbeModelSnapshot {
  readonly target: string;
  readonly model: string;
  readonly result: ProbeResult;
  /** OllamaError reason behind a failure ("first_token_timeout", "http_500", "refused", ...). */
  readonly reason?: string;
  readonly message?: string;
  /** Non-ok results in a row, this one included. */
  readonly consecutiveFailures: number;
  /** Whether /api/ps listed the model as resident (not stopping) before the probe; null when ps failed. */
  readonly wasLoaded: boolean | null;
  /** Seconds from sending to the first chunk; null when none came. */
  readonly ttfbSeconds: number | null;
  /** Wall-clock seconds of the whole probe request, failed ones included. */
  readonly durationSeconds: number;
  /** Ollama's load_duration (model load time, ~ms when warm); null when the probe did not finish. */
  readonly loadDurationSeconds: number | null;
  readonly tokensPerSecond: number | null;
  readonly promptTokensPerSecond: number | null;
  readonly lastSuccessMs: number | null;
  readonly runs: Readonly<Record<ProbeResult, number>>;
  readonly coldLoads: number;
  readonly atMs: number;
}

export interface ProbeSnapshot {
  readonly atMs: number;
  readonly probes: readonly ProbeModelSnapshot[];
}

export type ProbeApi = Pick<OllamaClient, 'ps' | 'generate'>;

export interface ProbeCollectorDeps {
  readonly clientFor?: (target: OllamaTargetConfig, timeoutMs: number) => ProbeApi;
  /** load_duration above this counts as a cold (re)load. Default 1 s. */
  readonly coldLoadThresholdSeconds?: number;
}

type ProbeConfig = Pick<
  ExporterConfig,
  'probe_interval_ms' | 'probe_load_timeout_ms' | 'probe_first_token_timeout_ms' | 'probe_prompt' | 'ollama_timeout_ms'
>;

interface PairState {
  /** Outcome of the previous probe of this pair (null before the first). */
  lastResult: ProbeResult | null;
  consecutiveFailures: number;
  lastSuccessMs: number | null;
  coldLoads: number;
  runs: Record<ProbeResult, number>;
}

const RUN_MARGIN_MS = 1000;

/**
 * The "probe" collector: a one-token streamed generate against every keep_warm model on each target it belongs to,
 * with the model's own keep_alive and options (so the probe never reloads it or changes its unload timer). Other
 * models are never touched. /api/ps is read first: a model already resident gets only the first-token deadline,
 * because Ollama sends headers together with the first token and a hung runner (#15950) would otherwise pass for
 * a slow load; a cold model gets the load deadline first.
 */
export function createProbeCollector(
  targets: readonly OllamaTargetConfig[],
  models: readonly ModelConfig[],
  cfg: ProbeConfig,
  deps: ProbeCollectorDeps = {},
): Collector<ProbeSnapshot> {
  const makeClient = deps.clientFor ?? ((t, timeoutMs) => new OllamaClient(t, { timeoutMs }));
  const coldThreshold = deps.coldLoadThresholdSeconds ?? 1;
  const pairs = targets.flatMap((target) => {
    const probed = models.filter((m) => m.keep_warm && (m.targets.length === 0 || m.targets.includes(target.name)));
    return probed.length === 0 ? [] : [{ target, api: makeClient(target, cfg.ollama_timeout_ms), models: probed }];
  });
  const state = new Map<string, PairState>();
  for (const p of pairs) {
    for (const m of p.models) {
      state.set(key(p.target.name, m.name), {
        lastResult: null,
        consecutiveFailures: 0,
        lastSuccessMs: null,
        coldLoads: 0,
        runs: { ok: 0, loading: 0, busy: 0, timeout: 0, not_found: 0, error: 0 },
      });
    }
  }

  return {
    name: 'probe',
    intervalMs: cfg.probe_interval_ms,
    // ps, then load + first token + one more chunk (the done line) at most.
    timeoutMs: cfg.ollama_timeout_ms + cfg.probe_load_timeout_ms + 2 * cfg.probe_first_token_timeout_ms + RUN_MARGIN_MS,
    async collect(ctx: CollectContext): Promise<ProbeSnapshot> {
      const outcomes = await Promise.all(
        pairs.map(async ({ target, api, models: probed }) => {
          const listed = await residentModels(api, ctx);
          return Promise.all(
            probed.map((m) => {
              const last = state.get(key(target.name, m.name))!.lastResult;
              // /api/ps lists a model while it is still loading too: only a model this probe has seen answering (or
              // hang after answering) counts as resident, so a slow cold load is never taken for a hung runner.
              const proven =
                listed === null ? null : listed.has(modelNameKey(m.name)) && (last === 'ok' || last === 'timeout');
              return probeOne(target, api, m, listed, proven, cfg, ctx);
            }),
          );
        }),
      );
      // An aborted run says nothing about the models: record nothing.
      if (ctx.signal.aborted) throw new CollectError('timeout', 'probe run aborted', { cause: ctx.signal.reason });
      const atMs = ctx.now();
      const probes = outcomes.flat().map((o) => {
        const s = state.get(key(o.target, o.model))!;
        s.lastResult = o.result;
        s.runs[o.result]++;
        if (o.result === 'ok') {
          s.consecutiveFailures = 0;
          s.lastSuccessMs = atMs;
        } else {
          s.consecutiveFailures++;
        }
        if (o.loadDurationSeconds !== null && o.loadDurationSeconds > coldThreshold) s.coldLoads++;
        return {
          ...o,
          consecutiveFailures: s.consecutiveFailures,
          lastSuccessMs: s.lastSuccessMs,
          runs: { ...s.runs },
          coldLoads: s.coldLoads,
          atMs,
        };
      });
      return { atMs, probes };
    },
    render: renderProbeSnapshot,
  };
}

type Outcome = Omit<ProbeModelSnapshot, 'consecutiveFailures' | 'lastSuccessMs' | 'runs' | 'coldLoads' | 'atMs'>;

/** Names (lower-cased, normalised) of models resident and not stopping; null when /api/ps fails. */
async function residentModels(api: ProbeApi, ctx: CollectContext): Promise<Set<string> | null> {
  try {
    const ps = await api.ps({ signal: ctx.signal });
    const now = ctx.now();
    return new Set(
      ps.filter((m) => m.expiresAtMs === undefined || m.expiresAtMs > now).map((m) => modelNameKey(m.name)),
    );
  } catch (err) {
    if (err instanceof OllamaError) return null; // unknown: give the probe the (longer) load deadline
    throw err;
  }
}

async function probeOne(
  target: OllamaTargetConfig,
  api: ProbeApi,
  model: ModelConfig,
  resident: Set<string> | null,
  provenResident: boolean | null,
  cfg: ProbeConfig,
  ctx: CollectContext,
): Promise<Outcome> {
  const wasLoaded = resident === null ? null : resident.has(modelNameKey(model.name));
  const fields = modelRequestFields(model);
  const started = ctx.now();
  const base = { target: target.name, model: model.name, wasLoaded };
  try {
    const r: GenerateResult = await api.generate(
      // num_predict is a predict option, not a runner option: it does not make Ollama reload the model.
      { ...fields, prompt: cfg.probe_prompt, options: { ...fields.options, num_predict: 1 } },
      {
        signal: ctx.signal,
        loadTimeoutMs: provenResident ? cfg.probe_first_token_timeout_ms : cfg.probe_load_timeout_ms,
        firstTokenTimeoutMs: cfg.probe_first_token_timeout_ms,
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
      promptTokensPerSecond: rate(f.prompt_eval_count, f.prompt_eval_duration),
    };
  } catch (err) {
    if (!(err instanceof OllamaError)) throw err;
    return {
      ...base,
      result: classify(err, provenResident === true),
      reason: err.reason,
      message: err.message,
      ttfbSeconds: null,
      durationSeconds: (ctx.now() - started) / 1000,
      loadDurationSeconds: null,
      tokensPerSecond: null,
      promptTokensPerSecond: null,
    };
  }
}

function classify(err: OllamaError, wasLoaded: boolean): ProbeResult {
  switch (err.reason) {
    case 'load_timeout':
      // A resident model needs no load: silence until headers is a hung runner, not a slow load.
      return wasLoaded ? 'timeout' : 'loading';
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

function key(target: string, model: string): string {
  return `${target}\u0000${model}`;
}

const H = {
  success: 'Whether the last one-token probe of this keep_warm model returned a token in time (1) or not (0).',
  result:
    'Outcome of the last probe: 1 for the current result (ok, loading, busy, timeout, not_found, error), 0 for the others.',
  consecutive: 'Failed probes in a row (any result but ok); 0 after a success.',
  ttfb: 'Seconds from sending the last probe to its first streamed chunk (includes loading when the model was cold).',
  duration: 'Wall-clock seconds of the last probe request, failed ones included.',
  load: "Ollama's load_duration of the last successful probe in seconds: milliseconds when warm, seconds or more after a (re)load.",
  tps: 'Generation rate of the last successful probe (eval_count / eval_duration), tokens per second; noisy with one token.',
  ptps: 'Prompt processing rate of the last successful probe (prompt_eval_count / prompt_eval_duration), tokens per second; collapses on CPU fallback.',
  lastSuccess: 'Unix time of the last successful probe.',
  runs: 'Probes run by this exporter, by result.',
  cold: 'Successful probes whose load_duration exceeded the cold-load threshold (1 s): the model had to be (re)loaded.',
};

export function renderProbeSnapshot(snapshot: ProbeSnapshot, sink: MetricSink): void {
  for (const p of snapshot.probes) {
    const l = { target: p.target, model: p.model };
    sink.gauge('sentinel_probe_success', H.success, l, p.result === 'ok' ? 1 : 0);
    for (const r of PROBE_RESULTS) {
      sink.gauge('sentinel_probe_result', H.result, { ...l, result: r }, p.result === r ? 1 : 0);
      sink.counter('sentinel_probe_runs_total', H.runs, { ...l, result: r }, p.runs[r]);
    }
    sink.gauge('sentinel_probe_consecutive_failures', H.consecutive, l, p.consecutiveFailures);
    if (p.ttfbSeconds !== null) sink.gauge('sentinel_probe_ttfb_seconds', H.ttfb, l, p.ttfbSeconds);
    sink.gauge('sentinel_probe_duration_seconds', H.duration, l, p.durationSeconds);
    if (p.loadDurationSeconds !== null)
      sink.gauge('sentinel_probe_load_duration_seconds', H.load, l, p.loadDurationSeconds);
    if (p.tokensPerSecond !== null) sink.gauge('sentinel_probe_tokens_per_second', H.tps, l, p.tokensPerSecond);
    if (p.promptTokensPerSecond !== null)
      sink.gauge('sentinel_probe_prompt_tokens_per_second', H.ptps, l, p.promptTokensPerSecond);
    if (p.lastSuccessMs !== null)
      sink.gauge('sentinel_probe_last_success_timestamp_seconds', H.lastSuccess, l, p.lastSuccessMs / 1000);
    sink.counter('sentinel_probe_cold_loads_total', H.cold, l, p.coldLoads);
  }
}
