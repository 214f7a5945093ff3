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
/**
 * What `sentinel_probe_result` shows: a finished probe's result, or `pending` while the probe in flight has outlived
 * its first-token deadline (its load deadline may still be running). Pending is neither success nor failure: it
 * replaces the previous outcome, which is no longer current, and counts toward nothing.
 */
export const SHOWN_RESULTS = [...PROBE_RESULTS, 'pending'] as const;
export type ShownResult = (typeof SHOWN_RESULTS)[number];

export interface ProbeModelSnapshot {
  readonly target: string;
  readonly model: string;
  readonly result: ShownResult;
  /** OllamaError reason behind a failure ("first_token_timeout", "http_500", "refused", ...). */
  readonly reason?: string;
  readonly message?: string;
  /** Non-ok finished probes in a row (a pending one is not counted). */
  readonly consecutiveFailures: number;
  /** Whether /api/ps listed the model as resident (not stopping) before the probe; null when ps failed. */
  readonly wasLoaded: boolean | null;
  /** Seconds from sending to the first chunk; null when none came (or pending). */
  readonly ttfbSeconds: number | null;
  /** Wall-clock seconds of the whole probe request, failed ones included; null while pending. */
  readonly durationSeconds: number | null;
  /** Ollama's load_duration (model load time, ~ms when warm); null when the probe did not finish. */
  readonly loadDurationSeconds: number | null;
  readonly tokensPerSecond: number | null;
  readonly promptTokensPerSecond: number | null;
  readonly lastSuccessMs: number | null;
  readonly runs: Readonly<Record<ProbeResult, number>>;
  readonly coldLoads: number;
  /** When this entry was last changed. */
  readonly atMs: number;
  /** When the probe of this model now in flight started (its /api/ps read included); null when none is. */
  readonly inFlightSinceMs: number | null;
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
  readonly target: string;
  readonly model: string;
  /** The last finished probe of this pair, as published (null before the first). */
  last: ProbeModelSnapshot | null;
  consecutiveFailures: number;
  lastSuccessMs: number | null;
  coldLoads: number;
  runs: Record<ProbeResult, number>;
  inFlightSinceMs: number | null;
  /** Set once the probe in flight outlived its first-token deadline: since when, and what /api/ps said before it. */
  pending: { readonly atMs: number; readonly wasLoaded: boolean | null } | null;
}

const RUN_MARGIN_MS = 1000;
/**
 * A probe turns pending this long after its first-token deadline (counted from the request, and again from every
 * chunk): a resident model's probe gets the first-token deadline as its load deadline, so it always ends (as ok or
 * timeout) before then and never flickers through pending; only a probe waiting on the longer load deadline does.
 */
const PENDING_GRACE_MS = 1000;

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
        target: p.target.name,
        model: m.name,
        last: null,
        consecutiveFailures: 0,
        lastSuccessMs: null,
        coldLoads: 0,
        runs: { ok: 0, loading: 0, busy: 0, timeout: 0, not_found: 0, error: 0 },
        inFlightSinceMs: null,
        pending: null,
      });
    }
  }
  const current = (atMs: number): ProbeSnapshot => ({
    atMs,
    probes: [...state.values()].flatMap((s) => {
      if (s.pending) return [pendingEntry(s, s.pending)];
      return s.last ? [{ ...s.last, inFlightSinceMs: s.inFlightSinceMs }] : [];
    }),
  });

  return {
    name: 'probe',
    intervalMs: cfg.probe_interval_ms,
    // ps, then load + first token + one more chunk (the done line) at most.
    timeoutMs: cfg.ollama_timeout_ms + cfg.probe_load_timeout_ms + 2 * cfg.probe_first_token_timeout_ms + RUN_MARGIN_MS,
    async collect(ctx: CollectContext<ProbeSnapshot>): Promise<ProbeSnapshot> {
      const publish = (): void => ctx.publish?.(current(ctx.now()));
      const started = ctx.now();
      for (const s of state.values()) s.inFlightSinceMs = started;
      publish();
      try {
        await Promise.all(
          pairs.map(async ({ target, api, models: probed }) => {
            const listed = await residentModels(api, ctx);
            await Promise.all(
              probed.map(async (m) => {
                const s = state.get(key(target.name, m.name))!;
                const last = s.last?.result;
                // /api/ps lists a model while it is still loading too: only a model this probe has seen answering
                // (or hang after answering) counts as resident, so a slow cold load is never taken for a hung runner.
                const proven =
                  listed === null ? null : listed.has(modelNameKey(m.name)) && (last === 'ok' || last === 'timeout');
                const onPending = (wasLoaded: boolean | null): void => {
                  if (ctx.signal.aborted) return;
                  s.pending = { atMs: ctx.now(), wasLoaded };
                  publish();
                };
                const o = await probeOne(target, api, m, listed, proven, cfg, ctx, onPending);
                // An aborted probe says nothing about the model: record nothing.
                if (ctx.signal.aborted) return;
                record(s, o, ctx.now(), coldThreshold);
                publish();
              }),
            );
          }),
        );
      } finally {
        for (const s of state.values()) {
          s.inFlightSinceMs = null;
          s.pending = null;
        }
      }
      if (ctx.signal.aborted) throw new CollectError('timeout', 'probe run aborted', { cause: ctx.signal.reason });
      return current(ctx.now());
    },
    render: renderProbeSnapshot,
    clockDependent: (s) => s.probes.some((p) => p.inFlightSinceMs !== null),
  };
}

/** A finished probe: the streak, counters and the entry the snapshot shows until the next one. */
function record(s: PairState, o: Outcome, atMs: number, coldThreshold: number): void {
  s.runs[o.result]++;
  if (o.result === 'ok') {
    s.consecutiveFailures = 0;
    s.lastSuccessMs = atMs;
  } else {
    s.consecutiveFailures++;
  }
  if (o.loadDurationSeconds !== null && o.loadDurationSeconds > coldThreshold) s.coldLoads++;
  s.inFlightSinceMs = null;
  s.pending = null;
  s.last = {
    ...o,
    consecutiveFailures: s.consecutiveFailures,
    lastSuccessMs: s.lastSuccessMs,
    runs: { ...s.runs },
    coldLoads: s.coldLoads,
    atMs,
    inFlightSinceMs: null,
  };
}

/**
 * A pending probe keeps only what finished probes established (the streak, counters, the last success): every
 * measurement of the previous probe (TTFB, durations, rates) is superseded by a probe that has not answered.
 */
function pendingEntry(s: PairState, pending: NonNullable<PairState['pending']>): ProbeModelSnapshot {
  return {
    target: s.target,
    model: s.model,
    result: 'pending',
    consecutiveFailures: s.consecutiveFailures,
    wasLoaded: pending.wasLoaded,
    ttfbSeconds: null,
    durationSeconds: null,
    loadDurationSeconds: null,
    tokensPerSecond: null,
    promptTokensPerSecond: null,
    lastSuccessMs: s.lastSuccessMs,
    runs: { ...s.runs },
    coldLoads: s.coldLoads,
    atMs: pending.atMs,
    inFlightSinceMs: s.inFlightSinceMs,
  };
}

type RunContext = Pick<CollectContext, 'signal' | 'now'>;

type Outcome = Omit<
  ProbeModelSnapshot,
  'result' | 'consecutiveFailures' | 'lastSuccessMs' | 'runs' | 'coldLoads' | 'atMs' | 'inFlightSinceMs'
> & { readonly result: ProbeResult; readonly durationSeconds: number };

/** Names (lower-cased, normalised) of models resident and not stopping; null when /api/ps fails. */
async function residentModels(api: ProbeApi, ctx: RunContext): Promise<Set<string> | null> {
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
  ctx: RunContext,
  onPending: (wasLoaded: boolean | null) => void,
): Promise<Outcome> {
  const wasLoaded = resident === null ? null : resident.has(modelNameKey(model.name));
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
  try {
    const r: GenerateResult = await api.generate(
      // num_predict is a predict option, not a runner option: it does not make Ollama reload the model.
      { ...fields, prompt: cfg.probe_prompt, options: { ...fields.options, num_predict: 1 } },
      {
        signal: ctx.signal,
        loadTimeoutMs,
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
  } finally {
    clearTimeout(pendingTimer);
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
  success:
    'Whether the last finished one-token probe of this keep_warm model returned a token in time (1) or not (0); absent while the probe in flight is pending.',
  result:
    'Outcome of the last probe: 1 for the current result (ok, loading, busy, timeout, not_found, error, or pending = still in flight past its first-token deadline), 0 for the others.',
  consecutive:
    'Failed probes in a row (any finished result but ok); 0 after a success; a pending probe does not count.',
  inFlight:
    'Seconds the probe of this model now in flight has been waiting (its /api/ps read included); 0 when none is.',
  ttfb: 'Seconds from sending the last probe to its first streamed chunk (includes loading when the model was cold); absent while pending.',
  duration: 'Wall-clock seconds of the last probe request, failed ones included; absent while pending.',
  load: "Ollama's load_duration of the last successful probe in seconds: milliseconds when warm, seconds or more after a (re)load; absent while pending.",
  tps: 'Generation rate of the last successful probe (eval_count / eval_duration), tokens per second; noisy with one token; absent while pending.',
  ptps: 'Prompt processing rate of the last successful probe (prompt_eval_count / prompt_eval_duration), tokens per second; collapses on CPU fallback; absent while pending.',
  lastSuccess: 'Unix time of the last successful probe.',
  runs: 'Probes run by this exporter, by result (finished probes only).',
  cold: 'Successful probes whose load_duration exceeded the cold-load threshold (1 s): the model had to be (re)loaded.',
};

/**
 * The series of one snapshot. While a probe is pending, every series describing the previous probe's outcome or
 * speed is left out (it is no longer current); what finished probes established stays: the streak, the counters and
 * the time of the last success.
 */
export function renderProbeSnapshot(snapshot: ProbeSnapshot, sink: MetricSink, nowMs = Date.now()): void {
  for (const p of snapshot.probes) {
    const l = { target: p.target, model: p.model };
    if (p.result !== 'pending') sink.gauge('sentinel_probe_success', H.success, l, p.result === 'ok' ? 1 : 0);
    for (const r of SHOWN_RESULTS)
      sink.gauge('sentinel_probe_result', H.result, { ...l, result: r }, p.result === r ? 1 : 0);
    for (const r of PROBE_RESULTS) sink.counter('sentinel_probe_runs_total', H.runs, { ...l, result: r }, p.runs[r]);
    sink.gauge('sentinel_probe_consecutive_failures', H.consecutive, l, p.consecutiveFailures);
    const waited = p.inFlightSinceMs === null ? 0 : Math.max(0, nowMs - p.inFlightSinceMs) / 1000;
    sink.gauge('sentinel_probe_in_flight_seconds', H.inFlight, l, waited);
    if (p.ttfbSeconds !== null) sink.gauge('sentinel_probe_ttfb_seconds', H.ttfb, l, p.ttfbSeconds);
    if (p.durationSeconds !== null) sink.gauge('sentinel_probe_duration_seconds', H.duration, l, p.durationSeconds);
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
