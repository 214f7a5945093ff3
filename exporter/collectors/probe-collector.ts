import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import { CollectError, type CollectContext, type Collector } from '../collector.js';
import {
  renderProbeSnapshot,
  type ProbeModelSnapshot,
  type ProbeResult,
  type ProbeSnapshot,
} from './probe-snapshot.js';
import { probeOne, residentModels, type Outcome, type ProbeApi, type ProbeConfig, type Resident } from './probe-one.js';
import { evictedByLoad, holdAfterProbe, judgeHold, type HoldState } from './probe-holds.js';
import { busySingleSlot, runnersToWatch, WaitWatch, type RunnersView } from './runner-watch.js';

export * from './probe-snapshot.js';
export type { ProbeApi } from './probe-one.js';

export interface ProbeCollectorDeps {
  readonly clientFor?: (target: OllamaTargetConfig, timeoutMs: number) => ProbeApi;
  /** load_duration above this counts as a cold (re)load. Default 1 s. */
  readonly coldLoadThresholdSeconds?: number;
  /** The target's runner processes from the latest `runners` snapshot; null (or absent) = not visible. */
  readonly runnersOf?: (target: string) => RunnersView | null;
  /** The model's `sha256-<hex>` blob (from /api/show, cached by the ollama collector); null = not known. */
  readonly blobOf?: (target: string, model: string) => string | null;
}

/**
 * A probe cut by the API going away (refused, reset, socket closed, stream cut short: e.g. the remediator's own
 * restart) says nothing about the model: api_down covers it, so it is not recorded as a probe failure.
 */
const CONNECTION_LEVEL = new Set(['refused', 'reset', 'network', 'truncated']);
/** Measured cold loads kept per model: the longest of these sizes the remediator's verification deadlines. */
const COLD_LOADS_KEPT = 5;
/** How often a probe in flight looks at the runners snapshot for progress. */
const WATCH_EVERY_MS = 1000;

interface PairState extends HoldState {
  readonly target: string;
  readonly model: string;
  /** The last finished probe of this pair, as published (null before the first). */
  last: ProbeModelSnapshot | null;
  consecutiveFailures: number;
  lastSuccessMs: number | null;
  coldLoads: number;
  coldLoadSeconds: number[];
  runs: Record<ProbeResult, number>;
  inFlightSinceMs: number | null;
  /** Set once the probe in flight outlived its first-token deadline: since when, and what /api/ps said before it. */
  pending: { readonly atMs: number; readonly wasLoaded: boolean | null } | null;
  /** Since when its runner has been busy without a probe getting through; null when it has not. */
  busySinceMs: number | null;
  /** The runner activity seen by the probe in flight. */
  watch: WaitWatch | null;
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
  const runnersOf = deps.runnersOf ?? (() => null);
  const blobOf = deps.blobOf ?? (() => null);
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
        coldLoadSeconds: [],
        runs: { ok: 0, loading: 0, busy: 0, timeout: 0, not_found: 0, error: 0, skipped: 0 },
        inFlightSinceMs: null,
        pending: null,
        busySinceMs: null,
        watch: null,
        oomHeldUntilMs: null,
        oomWhileListed: false,
        evictedBy: null,
      });
    }
  }
  const current = (atMs: number): ProbeSnapshot => ({
    atMs,
    probes: [...state.values()].flatMap((s) => {
      const held = {
        ...(s.oomHeldUntilMs !== null ? { heldUntilMs: s.oomHeldUntilMs } : {}),
        ...(s.evictedBy !== null ? { evictedBy: s.evictedBy.model } : {}),
      };
      if (s.pending) return [{ ...pendingEntry(s, s.pending), ...held }];
      return s.last ? [{ ...s.last, inFlightSinceMs: s.inFlightSinceMs, ...held }] : [];
    }),
  });

  return {
    name: 'probe',
    intervalMs: cfg.probe_interval_ms,
    // ps, then per model (the loads run one after another): ps, load + first token + one more chunk (the done line).
    timeoutMs:
      Math.max(1, ...pairs.map((p) => p.models.length)) *
        (2 * cfg.ollama_timeout_ms + cfg.probe_load_timeout_ms + 2 * cfg.probe_first_token_timeout_ms) +
      cfg.ollama_timeout_ms +
      RUN_MARGIN_MS,
    async collect(ctx: CollectContext<ProbeSnapshot>): Promise<ProbeSnapshot> {
      const publish = (): void => ctx.publish?.(current(ctx.now()));
      const started = ctx.now();
      for (const s of state.values()) s.inFlightSinceMs = started;
      publish();
      try {
        await Promise.all(
          pairs.map(async ({ target, api, models: probed }) => {
            const probeModel = async (m: ModelConfig, listed: Resident | null): Promise<void> => {
              const s = state.get(key(target.name, m.name))!;
              // Not loaded again into the same out-of-memory, nor back over the keep_warm model that evicted it.
              if (judgeHold(s, m.name, listed, ctx.now()).hold) {
                s.inFlightSinceMs = null;
                publish();
                return;
              }
              const last = s.last?.result;
              // /api/ps lists a model while it is still loading too: only a model this probe has seen answering
              // (or hang after answering) counts as resident, so a slow cold load is never taken for a hung runner.
              const resident = listed === null ? null : listed.has(modelNameKey(m.name));
              const proven = resident === null ? null : resident && (last === 'ok' || last === 'timeout');
              const watched = () => runnersToWatch(runnersOf(target.name), blobOf(target.name, m.name), resident);
              if (busySingleSlot(watched())) {
                skip(s, resident, ctx.now());
                publish();
                return;
              }
              const startedMs = ctx.now();
              s.watch = new WaitWatch(watched, () => runnersOf(target.name)?.atMs ?? null, startedMs);
              const ticker = setInterval(() => s.watch?.sample(), WATCH_EVERY_MS);
              ticker.unref();
              const onPending = (wasLoaded: boolean | null): void => {
                if (ctx.signal.aborted) return;
                s.pending = { atMs: ctx.now(), wasLoaded };
                publish();
              };
              // Runner snapshots taken since the probe began show the model's runner(s) all still: none is loading.
              const settled = (): boolean => {
                const view = runnersOf(target.name);
                const now =
                  view !== null && view.atMs > startedMs
                    ? runnersToWatch(view, blobOf(target.name, m.name), true)
                    : null;
                return now !== null && now.length > 0 && now.every((r) => r.progress === 'flat');
              };
              const o = await probeOne(target, api, m, listed, proven, cfg, ctx, onPending, settled).finally(() =>
                clearInterval(ticker),
              );
              // An aborted probe, or one cut by the API going away, says nothing about the model: record nothing.
              if (ctx.signal.aborted || (o.reason !== undefined && CONNECTION_LEVEL.has(o.reason))) return;
              const busy = o.result === 'timeout' ? s.watch.busy : undefined;
              // A load (it was not resident) may have evicted other keep_warm models: /api/ps again tells.
              const evicted =
                resident === false && (o.result === 'ok' || o.result === 'error')
                  ? evictedByLoad(
                      probed.map((x) => x.name),
                      m.name,
                      listed,
                      await residentModels(api, ctx).catch(() => null),
                    )
                  : [];
              for (const other of evicted)
                state.get(key(target.name, other))!.evictedBy = { model: m.name, atMs: ctx.now() };
              holdAfterProbe(s, o.result, o.message, ctx.now(), cfg.probe_oom_hold_ms, resident);
              const seen = { ...o, ...(evicted.length > 0 ? { evicted } : {}) };
              record(s, busy === undefined ? seen : { ...seen, runnerBusyDuringWait: busy }, ctx.now(), coldThreshold);
              publish();
            };
            // Resident models first, together; then the loads one at a time, each between two /api/ps reads: Ollama
            // loads one model at a time anyway, and only so can a load be told to have evicted another keep_warm
            // model (concurrent probes of two that do not fit would evict each other within one round, unseen).
            const listed = await residentModels(api, ctx);
            const cold = (m: ModelConfig) => listed !== null && !listed.has(modelNameKey(m.name));
            await Promise.all(probed.filter((m) => !cold(m)).map((m) => probeModel(m, listed)));
            for (const m of probed.filter(cold)) await probeModel(m, await residentModels(api, ctx));
          }),
        );
      } finally {
        for (const s of state.values()) {
          s.inFlightSinceMs = null;
          s.pending = null;
          s.watch = null;
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
  // Waiting behind users keeps the busy clock running (from when this probe started); anything else stops it.
  s.busySinceMs = o.runnerBusyDuringWait === true ? (s.busySinceMs ?? s.inFlightSinceMs ?? atMs) : null;
  s.watch = null;
  if (o.loadDurationSeconds !== null && o.loadDurationSeconds > coldThreshold) {
    s.coldLoads++;
    s.coldLoadSeconds = [...s.coldLoadSeconds, o.loadDurationSeconds].slice(-COLD_LOADS_KEPT);
  }
  s.inFlightSinceMs = null;
  s.pending = null;
  s.last = {
    ...o,
    busySinceMs: s.busySinceMs,
    consecutiveFailures: s.consecutiveFailures,
    lastSuccessMs: s.lastSuccessMs,
    runs: { ...s.runs },
    coldLoads: s.coldLoads,
    coldLoadSeconds: s.coldLoadSeconds,
    atMs,
    inFlightSinceMs: null,
  };
}

/** Not sent: the runner is busy. Neither success nor failure: the streak stays, the busy clock runs. */
function skip(s: PairState, wasLoaded: boolean | null, atMs: number): void {
  s.runs.skipped++;
  s.busySinceMs ??= atMs;
  s.inFlightSinceMs = null;
  s.last = {
    target: s.target,
    model: s.model,
    result: 'skipped',
    consecutiveFailures: s.consecutiveFailures,
    wasLoaded,
    ttfbSeconds: null,
    durationSeconds: null,
    loadDurationSeconds: null,
    tokensPerSecond: null,
    runnerBusyDuringWait: true,
    busySinceMs: s.busySinceMs,
    lastSuccessMs: s.lastSuccessMs,
    runs: { ...s.runs },
    coldLoads: s.coldLoads,
    coldLoadSeconds: s.coldLoadSeconds,
    atMs,
    inFlightSinceMs: null,
  };
}

/**
 * A pending probe keeps only what finished probes established (the streak, counters, the last success): every
 * measurement of the previous probe (TTFB, durations, rates) is superseded by a probe that has not answered.
 */
function pendingEntry(s: PairState, pending: NonNullable<PairState['pending']>): ProbeModelSnapshot {
  const busy = s.watch?.busy ?? null;
  return {
    runnerBusyDuringWait: busy,
    busySinceMs: busy === true ? (s.busySinceMs ?? s.inFlightSinceMs) : s.busySinceMs,
    target: s.target,
    model: s.model,
    result: 'pending',
    consecutiveFailures: s.consecutiveFailures,
    wasLoaded: pending.wasLoaded,
    ttfbSeconds: null,
    durationSeconds: null,
    loadDurationSeconds: null,
    tokensPerSecond: null,
    lastSuccessMs: s.lastSuccessMs,
    runs: { ...s.runs },
    coldLoads: s.coldLoads,
    coldLoadSeconds: s.coldLoadSeconds,
    atMs: pending.atMs,
    inFlightSinceMs: s.inFlightSinceMs,
  };
}

function key(target: string, model: string): string {
  return `${target}\u0000${model}`;
}
