import type { MetricSink } from '../collector.js';

export const PROBE_RESULTS = ['ok', 'loading', 'busy', 'timeout', 'not_found', 'error', 'skipped'] as const;
/**
 * ok: a token came back in time. loading: the model did not finish loading within probe_load_timeout (cold start).
 * busy: 503, load queue full. timeout: loaded (or resident) but no token within probe_first_token_timeout: hung, or
 * waiting behind users for a slot (runnerBusyDuringWait tells). not_found: 404, the model is missing. error: anything
 * else (500 out of memory, stream error...). skipped: not sent, its single-slot runner was busy (not a failure).
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
  /**
   * eval_count / eval_duration: the CPU-fallback signal. No prompt rate is published: prompt_eval_count includes
   * cached prompt tokens but prompt_eval_duration only uncached ones (0.33 llm/llama_server.go promptEvalCount =
   * cache_n + prompt_n over prompt_ms; 0.12 runner: numPromptInputs over processingDuration), and the templated
   * prefix of the probe's tiny prompt is always cached, so that rate was inflated and did not fall on a fallback.
   */
  readonly tokensPerSecond: number | null;
  /**
   * Whether the model's runner made progress while the last timed-out or pending probe waited (true = waiting behind
   * users, false = flat, null = not visible); absent on other results.
   */
  readonly runnerBusyDuringWait?: boolean | null;
  /** Since when the runner has been busy without a probe getting through (skipped, or waited behind users). */
  readonly busySinceMs: number | null;
  readonly lastSuccessMs: number | null;
  readonly runs: Readonly<Record<ProbeResult, number>>;
  readonly coldLoads: number;
  /** load_duration of the last few cold loads this probe measured (seconds, oldest first). */
  readonly coldLoadSeconds: readonly number[];
  /** When this entry was last changed. */
  readonly atMs: number;
  /** Other keep_warm models this probe's load evicted (listed by /api/ps before it, not after); absent when none. */
  readonly evicted?: readonly string[];
  /** After an out-of-memory: until when the probe does not load this model again (ms); null: no hold. */
  readonly heldUntilMs?: number | null;
  /** The keep_warm model whose load by the probe evicted this one: not reloaded while that one is loaded. */
  readonly evictedBy?: string | null;
  /** When the probe of this model now in flight started (its /api/ps read included); null when none is. */
  readonly inFlightSinceMs: number | null;
}

export interface ProbeSnapshot {
  readonly atMs: number;
  readonly probes: readonly ProbeModelSnapshot[];
}

const H = {
  success:
    'Whether the last finished one-token probe of this keep_warm model returned a token in time (1) or not (0); absent while the probe in flight is pending or was skipped.',
  result:
    'Outcome of the last probe: 1 for the current result (ok, loading, busy, timeout, not_found, error, skipped = not sent because its single-slot runner was busy, or pending = still in flight past its first-token deadline), 0 for the others.',
  consecutive:
    'Failed probes in a row (any finished result but ok and skipped); 0 after a success; pending and skipped probes do not count, nor a probe cut by the API going away (sentinel_ollama_up covers that).',
  inFlight:
    'Seconds the probe of this model now in flight has been waiting (its /api/ps read included); 0 when none is.',
  ttfb: 'Seconds from sending the last probe to its first streamed chunk (includes loading when the model was cold); absent while pending.',
  duration: 'Wall-clock seconds of the last probe request, failed ones included; absent while pending.',
  load: "Ollama's load_duration of the last successful probe in seconds: milliseconds when warm, seconds or more after a (re)load; absent while pending.",
  tps: 'Generation rate of the last successful probe (eval_count / eval_duration), tokens per second; noisy with one token; absent while pending.',
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
    if (p.result !== 'pending' && p.result !== 'skipped')
      sink.gauge('sentinel_probe_success', H.success, l, p.result === 'ok' ? 1 : 0);
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
    if (p.lastSuccessMs !== null)
      sink.gauge('sentinel_probe_last_success_timestamp_seconds', H.lastSuccess, l, p.lastSuccessMs / 1000);
    sink.counter('sentinel_probe_cold_loads_total', H.cold, l, p.coldLoads);
  }
}
