import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import type { RunnerObservation } from '../../shared/diagnosis/target-observation.js';
import { CollectError, type CollectContext, type Collector } from '../collector.js';
import {
  renderProbeSnapshot,
  type ProbeModelSnapshot,
  type ProbeResult,
  type ProbeSnapshot,
} from './probe-snapshot.js';
import {
  LOAD_DEADLINES_MAX,
  probeOne,
  residentModels,
  type Outcome,
  type ProbeApi,
  type ProbeConfig,
  type Resident,
} from './probe-one.js';
import { evictedByLoad, holdAfterProbe, judgeHold, type HoldState } from './probe-holds.js';
import {
  busySingleSlot,
  freshRunnersView,
  loadMoves,
  ownRunner,
  runnersToWatch,
  settledDuringWait,
  stillProven,
  WaitWatch,
  type RunnersView,
} from './runner-watch.js';

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
  /**
   * How long a probe that ran out of time may wait for a runners snapshot taken since it began, when none came
   * within its deadline (the runners collector's interval plus its timeout). Default 0: what is there at the deadline.
   */
  readonly runnersEvidenceWaitMs?: number;
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
  /** When the last finished probe began (its request), or was skipped. */
  lastStartedMs: number | null;
  /** The model's runner process as first seen after the last probe that proved it resident (ok or timeout). */
  provenRunner: RunnerObservation | null;
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
  // Only a proven-resident model's probe waits so: it is over by its first-token deadline (or two, for a stream
  // that stalls), so the wait fits in the run's budget, which counts the load deadline for each model.
  const evidenceWaitMs = Math.max(
    0,
    Math.min(deps.runnersEvidenceWaitMs ?? 0, cfg.probe_load_timeout_ms - cfg.probe_first_token_timeout_ms),
  );
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
        lastStartedMs: null,
        provenRunner: null,
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
        (2 * cfg.ollama_timeout_ms +
          LOAD_DEADLINES_MAX * cfg.probe_load_timeout_ms +
          2 * cfg.probe_first_token_timeout_ms) +
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
              // ...or whose runner is still the process that did, when the probe since proved nothing (skipped,
              // loading, error): one such outcome must not put a hung runner on the load deadline for good.
              noteProvenRunner(s, runnersOf(target.name), blobOf(target.name, m.name));
              const kept = stillProven(runnersOf(target.name), blobOf(target.name, m.name), s);
              const proven = resident === null ? null : resident && (last === 'ok' || last === 'timeout' || kept);
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
              // Its runner(s) as the probe begins (the latest snapshot, however old): later evidence must show these.
              const own = (v: RunnersView | null) => runnersToWatch(v, blobOf(target.name, m.name), true);
              const pinned = own(runnersOf(target.name));
              const settled = (): Promise<boolean> => {
                s.watch?.end(ctx.now()); // asked once the request is over
                const view = () => runnersOf(target.name);
                return settledDuringWait(view, own, pinned, startedMs, evidenceWaitMs, ctx.signal);
              };
              const progressing = (): boolean =>
                loadMoves(
                  runnersOf(target.name),
                  blobOf(target.name, m.name),
                  startedMs,
                  cfg.probe_load_timeout_ms,
                  ctx.now(),
                );
              const o = await probeOne(
                target,
                api,
                m,
                listed,
                proven,
                cfg,
                ctx,
                onPending,
                settled,
                progressing,
              ).finally(() => clearInterval(ticker));
              // An aborted probe, or one cut by the API going away, says nothing about the model: record nothing.
              if (ctx.signal.aborted || (o.reason !== undefined && CONNECTION_LEVEL.has(o.reason))) return;
              // Busy or hung: without a runners snapshot since the probe began, wait for one rather than leave it
              // unknown (unknown counts as hung, as where the runners are not visible at all).
              s.watch.end(ctx.now());
              if (o.result === 'timeout' && proven === true && s.watch.busy === null)
                await freshRunnersView(() => runnersOf(target.name), startedMs, evidenceWaitMs, ctx.signal);
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
              noteProvenRunner(s, runnersOf(target.name), blobOf(target.name, m.name));
              s.lastStartedMs = startedMs;
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
  if (o.result === 'ok' || o.result === 'timeout') s.provenRunner = null; // seen afresh after this one
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
  s.lastStartedMs = atMs;
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

/** After a probe that proved the model resident: its runner, from the first snapshot taken after that probe. */
function noteProvenRunner(s: PairState, view: RunnersView | null, blob: string | null): void {
  const last = s.last?.result;
  if ((last !== 'ok' && last !== 'timeout') || s.provenRunner !== null) return;
  if (view !== null && view.atMs > s.last!.atMs) s.provenRunner = ownRunner(view, blob);
}

function key(target: string, model: string): string {
  return `${target}\u0000${model}`;
}
