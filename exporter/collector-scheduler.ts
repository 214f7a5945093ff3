import type { Logger } from '../shared/log/create-logger.js';
import { CollectError, type Collector, type MetricSink } from './collector.js';

/** What the scheduler knows about one collector; the JSON state endpoint publishes it as is. */
export interface CollectorStatus {
  readonly name: string;
  /** At least one run has finished (successfully or not). */
  tried: boolean;
  ok: boolean;
  snapshot: unknown;
  runs: number;
  skippedRuns: number;
  lastDurationSeconds: number | null;
  lastSuccessMs: number | null;
  lastError: { reason: string; message: string; atMs: number } | null;
  errors: Record<string, number>;
  /** Set while a run has outlived its timeout plus the kill grace: e.g. nvidia-smi stuck in the kernel. */
  stuckSinceMs: number | null;
  inFlightSinceMs: number | null;
}

/** One source of an on-demand collection: when its sample was started, and whether it came back good. */
export interface FreshRun {
  readonly name: string;
  /** Null: no run of it started after the request (stuck, shutting down, or no time left). */
  readonly startedAtMs: number | null;
  readonly ok: boolean;
}

export interface SchedulerDeps {
  readonly log: Logger;
  readonly now?: () => number;
  /** How long after the timeout an unfinished run counts as stuck (the child was killed but never ended). */
  readonly stuckGraceMs?: number;
}

/**
 * Runs every collector in the background on its own interval, at most one run in flight each, with a hard timeout
 * (the run's AbortSignal fires). A run still unfinished after the timeout counts as failed at once and as stuck
 * after a grace period; no second run starts until it ends. Scrapes only read the latest snapshots: a run's result,
 * or what a run still in flight published of itself (ctx.publish), so a slow source can say what it is waiting on.
 */
export class CollectorScheduler {
  private readonly status = new Map<string, CollectorStatus>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private readonly stuckGraceMs: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly controllers = new Map<string, AbortController>();
  private stopped = false;
  /** Bumped on every change of what render() writes; the scrape cache keys on it. */
  private generation = 0;

  constructor(
    private readonly collectors: readonly Collector[],
    private readonly deps: SchedulerDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.stuckGraceMs = deps.stuckGraceMs ?? 5000;
    for (const c of collectors) {
      this.status.set(c.name, {
        name: c.name,
        tried: false,
        ok: false,
        snapshot: undefined,
        runs: 0,
        skippedRuns: 0,
        lastDurationSeconds: null,
        lastSuccessMs: null,
        lastError: null,
        errors: {},
        stuckSinceMs: null,
        inFlightSinceMs: null,
      });
    }
  }

  start(): void {
    for (const c of this.collectors) this.tick(c);
  }

  /** Stops scheduling and waits (bounded) for runs in flight; a stuck run is abandoned, never awaited forever. */
  async stop(waitMs = 2000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers.values()) c.abort(new CollectError('shutdown', 'exporter shutting down'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()]),
      new Promise((r) => {
        timer = setTimeout(r, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ready once every collector has tried once. */
  ready(): boolean {
    return [...this.status.values()].every((s) => s.tried);
  }

  statuses(): readonly CollectorStatus[] {
    return [...this.status.values()];
  }

  snapshot<S>(name: string): S | undefined {
    const s = this.status.get(name);
    return s?.ok ? (s.snapshot as S) : undefined;
  }

  /**
   * Identifies what render() would write now: the same key means the same series. Changes with every snapshot and
   * status change, and with the clock (ms) while a snapshot's series depend on the scrape's time.
   */
  renderKey(): string {
    const clock = this.collectors.some((c) => {
      const s = this.status.get(c.name)!;
      return s.ok && c.clockDependent?.(s.snapshot) === true;
    });
    return clock ? `${this.generation}@${this.now()}` : String(this.generation);
  }

  /** Runs one collector now and waits for it (tests, and the first run before serving). */
  runNow(name: string): Promise<void> {
    const c = this.collectors.find((x) => x.name === name);
    if (!c) throw new Error(`no collector named ${name}`);
    return this.inFlight.get(name) ?? this.run(c);
  }

  /**
   * On-demand collection (GET /api/state?target=..&fresh=1): runs the named collectors now, started together, and
   * resolves once they ended or `waitMs` passed. A run already in flight that started at or after `sinceMs` (another
   * fresh request's, or a scheduled tick's) is shared; an older one is waited out first (at most until its timeout,
   * when it counts as failed anyway), so every sample is taken after `sinceMs`. These are ordinary runs: their
   * results replace the scheduled snapshots. `ok` is false for a source that failed, timed out, is stuck or had not
   * finished by `waitMs`: its part of a fresh answer is unknown.
   */
  async collectFresh(names: readonly string[], sinceMs: number, waitMs: number): Promise<FreshRun[]> {
    const wanted = this.collectors.filter((c) => names.includes(c.name));
    const giveUp = sinceMs + waitMs;
    await Promise.all(wanted.map((c) => this.waitOutOlderRun(c, sinceMs, giveUp)));
    const runs = wanted.map((c) => {
      const s = this.status.get(c.name)!;
      let p = this.inFlight.get(c.name);
      if (!p && !this.stopped && this.now() < giveUp) p = this.run(c);
      const startedAtMs = p && s.inFlightSinceMs !== null && s.inFlightSinceMs >= sinceMs ? s.inFlightSinceMs : null;
      let ended = false;
      return {
        c,
        s,
        startedAtMs,
        done: startedAtMs === null ? Promise.resolve() : p!.then(() => void (ended = true)),
        ended: () => ended,
      };
    });
    await raceTimeout(Promise.all(runs.map((r) => r.done)), giveUp - this.now());
    return runs.map((r) => ({
      name: r.c.name,
      startedAtMs: r.startedAtMs,
      ok: r.startedAtMs !== null && r.ended() && r.s.ok,
    }));
  }

  /** Waits until a run of `c` that started before `sinceMs` is over (bounded by its timeout and by `giveUp`). */
  private async waitOutOlderRun(c: Collector, sinceMs: number, giveUp: number): Promise<void> {
    const s = this.status.get(c.name)!;
    const p = this.inFlight.get(c.name);
    if (!p || s.inFlightSinceMs === null || s.inFlightSinceMs >= sinceMs) return;
    await raceTimeout(p, Math.min(giveUp, s.inFlightSinceMs + c.timeoutMs + 50) - this.now());
  }

  private tick(c: Collector): void {
    if (this.stopped) return;
    const s = this.status.get(c.name)!;
    if (this.inFlight.has(c.name)) {
      s.skippedRuns++;
      this.generation++;
      const since = s.inFlightSinceMs!;
      if (s.stuckSinceMs === null && this.now() - since >= c.timeoutMs + this.stuckGraceMs) {
        s.stuckSinceMs = since + c.timeoutMs;
        this.deps.log.error(
          { collector: c.name, since: new Date(s.stuckSinceMs).toISOString() },
          'collection run is stuck: it did not end after being killed; no new run starts until it does',
        );
      }
    } else void this.run(c);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.tick(c);
    }, c.intervalMs);
    t.unref();
    this.timers.add(t);
  }

  private run(c: Collector): Promise<void> {
    const s = this.status.get(c.name)!;
    const started = this.now();
    s.inFlightSinceMs = started;
    const controller = new AbortController();
    this.controllers.set(c.name, controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new CollectError('timeout', `${c.name} collection exceeded ${c.timeoutMs} ms`));
      // Fail now: a hung source must not keep serving its last snapshot as if current.
      this.fail(s, new CollectError('timeout', `collection exceeded its ${c.timeoutMs} ms timeout`), started);
    }, c.timeoutMs);
    const p = (async () => {
      try {
        const publish = (interim: unknown): void => {
          // A failed source stays absent until a run succeeds; a timed-out run has no say any more.
          if (s.ok && !timedOut && !this.stopped) {
            s.snapshot = interim;
            this.generation++;
          }
        };
        const snapshot = await c.collect({ signal: controller.signal, now: this.now, publish });
        if (timedOut) return;
        s.ok = true;
        s.snapshot = snapshot;
        s.lastSuccessMs = this.now();
        s.lastDurationSeconds = (this.now() - started) / 1000;
        s.runs++;
        s.tried = true;
      } catch (err) {
        if (!timedOut) this.fail(s, err, started);
      } finally {
        clearTimeout(timer);
        this.generation++;
        if (s.stuckSinceMs !== null) this.deps.log.warn({ collector: c.name }, 'stuck collection run finally ended');
        s.stuckSinceMs = null;
        s.inFlightSinceMs = null;
        this.inFlight.delete(c.name);
        this.controllers.delete(c.name);
      }
    })();
    this.inFlight.set(c.name, p);
    return p;
  }

  private fail(s: CollectorStatus, err: unknown, started: number): void {
    const reason = err instanceof CollectError ? err.reason : 'error';
    const message = err instanceof Error ? err.message : String(err);
    this.generation++;
    s.ok = false;
    s.snapshot = undefined;
    s.tried = true;
    s.runs++;
    s.lastDurationSeconds = (this.now() - started) / 1000;
    s.errors[reason] = (s.errors[reason] ?? 0) + 1;
    s.lastError = { reason, message, atMs: this.now() };
    this.deps.log.warn({ collector: s.name, reason, err: message }, 'collection failed');
  }

  /** Writes every good snapshot's series plus each collector's own health series. */
  render(sink: MetricSink): void {
    for (const c of this.collectors) {
      const s = this.status.get(c.name)!;
      if (s.ok) {
        try {
          c.render(s.snapshot, sink, this.now());
        } catch (err) {
          s.errors.render = (s.errors.render ?? 0) + 1;
          this.generation++;
          this.deps.log.error({ collector: c.name, err }, 'rendering a snapshot failed');
        }
      }
      const l = { collector: c.name };
      sink.gauge(
        'sentinel_collector_success',
        'Whether the last collection of this source succeeded (1) or failed (0); its series are absent while 0.',
        l,
        s.ok ? 1 : 0,
      );
      if (s.lastDurationSeconds !== null)
        sink.gauge(
          'sentinel_collector_duration_seconds',
          'Duration of the last collection run.',
          l,
          s.lastDurationSeconds,
        );
      if (s.lastSuccessMs !== null)
        sink.gauge(
          'sentinel_collector_last_success_timestamp_seconds',
          'Unix time of the last successful collection.',
          l,
          s.lastSuccessMs / 1000,
        );
      sink.counter('sentinel_collector_runs_total', 'Collection runs finished (success or failure).', l, s.runs);
      sink.counter(
        'sentinel_collector_skipped_runs_total',
        'Scheduled runs skipped because the previous run was still in flight.',
        l,
        s.skippedRuns,
      );
      for (const [reason, n] of Object.entries(s.errors))
        sink.counter(
          'sentinel_collector_errors_total',
          'Failed collections by reason.',
          { collector: c.name, reason },
          n,
        );
      if (s.stuckSinceMs !== null)
        sink.gauge(
          'sentinel_collector_stuck_since_timestamp_seconds',
          'Unix time since when a run has not ended even after being killed (e.g. nvidia-smi stuck in the kernel).',
          l,
          s.stuckSinceMs / 1000,
        );
    }
  }
}

/** Waits for `p`, or `ms` at most (never rejects; a settled or timed-out wait just returns). */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => undefined),
    new Promise((r) => {
      timer = setTimeout(r, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
