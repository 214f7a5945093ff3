import type { ActionRequest, ActionResult } from '../../remediator/actions/action.js';
import type { Clock } from '../../remediator/engine/clock.js';
import { RemediationEngine } from '../../remediator/engine/remediation-engine.js';
import type { RemediationPorts } from '../../remediator/engine/remediation-ports.js';
import { AlertIntake } from '../../remediator/ingress/alert-intake.js';
import type { WebhookAlert } from '../../remediator/ingress/webhook-payload.js';
import { DedupCache } from '../../remediator/journal/dedup-cache.js';
import { alertKey, type JournalRecord } from '../../remediator/journal/journal-record.js';
import { compileRules } from '../../remediator/policy/match-rule.js';
import { QuietWindow } from '../../remediator/quiet/quiet-window.js';
import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';
import type { AuditEntry } from '../../remediator/state/audit-log.js';
import { emptyState, parsePersistedState } from '../../remediator/state/persisted-state.js';
import { diagnoseTarget } from '../../shared/diagnosis/diagnose-target.js';
import { createLogger } from '../../shared/log/create-logger.js';
import { BASE_YAML } from './engine-harness.js';
import { loadRemediatorConfig } from './load-remediator-config.js';
import { CONDITIONS_OBS, observation } from './observation.js';

/** The engine's settings in the randomized interleavings: short enough that every limit is hit often. */
export const WORLD_YAML = `${BASE_YAML}
remediator:
  cooldown: 5m
  max_attempts_per_incident: 3
  breaker_max_actions: 4
  breaker_window: 1h
  lock_wait: 2m
  quiet_hours:
    q: {timezone: UTC, cron: ["* 0-9 * * * *"]}
  rules:
    - {name: heal, match: {alertname: A}}
    - {name: heal2, match: {alertname: B}}
    - {name: quiet, quiet: q, match: {alertname: Q}}
`;

export type Condition = 'healthy' | 'gpuAccessLost' | 'hung' | 'orphans' | 'unknown' | 'partial';
const OBS: Record<Condition, () => ReturnType<typeof observation>> = {
  healthy: () => observation(),
  ...CONDITIONS_OBS,
};

/** One real step as the world saw it: when its intent was recorded, and whether it changed anything. */
export interface WorldStep {
  readonly id: number;
  readonly gen: number;
  readonly req: ActionRequest;
  readonly intentAt: number;
  /** Position of its intent in the audit log (orders it against breaker resets). */
  readonly intentOrder: number;
  readonly outcome: ActionResult['outcome'];
  readonly mutateAtStart: boolean;
  /** Handing over the evidence (and with it the change, when the step changes things at once). */
  evidence?: Promise<void>;
  completing: boolean;
  mutated: boolean;
  settled: boolean;
  resolve?: (r: ActionResult) => void;
}

interface WorldTimer {
  readonly at: number;
  readonly fn: () => void;
  readonly id: number;
  readonly gen: number;
}

interface Generation {
  readonly n: number;
  alive: boolean;
  readonly engine: RemediationEngine;
  readonly intake: AlertIntake;
}

const NEVER = new Promise<never>(() => undefined);
const immediate = () => new Promise<void>((r) => setImmediate(r));

/**
 * A remediator's whole world for randomized interleavings: Alertmanager's notifications come from the test, the
 * journal is durable at once, state saves land when the test lets them (so crashes lose the ones in flight),
 * steps finish when the test says, and restarts rebuild the engine from the saved state plus a journal replay, as
 * startRemediator does. Records what really happened (mutations) to check the engine's promises against.
 */
export class World {
  t = Date.parse('2026-06-01T12:05:00Z');
  readonly condition: Record<string, Condition> = { main: 'gpuAccessLost', other: 'hung' };
  readonly journal: JournalRecord[] = [];
  /** The state file: the last save that landed. */
  disk = JSON.stringify(emptyState());
  readonly audit: (AuditEntry & { gen: number; at: number })[] = [];
  readonly steps: WorldStep[] = [];
  /** Positions in the audit log at which an operator reset the breaker. */
  readonly resets: number[] = [];
  gen!: Generation;
  #timers: WorldTimer[] = [];
  #timerIds = 0;
  #saves: { snap: string; resolve: () => void; gen: number }[] = [];
  autoSave = false;
  #ids = 0;
  #gens = 0;

  constructor(
    readonly rng: () => number,
    private readonly setup: WorldSetup,
  ) {
    this.#boot();
  }

  /** Lets every queued promise callback run, and the timers due by now fire (as they would on a real clock). */
  async tick(): Promise<void> {
    await immediate();
    if (this.#timers.some((x) => x.at <= this.t)) await this.advance(0);
  }

  /** Moves time forward, firing the timers that fall due on the way in time order, callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await immediate();
      let due: WorldTimer | undefined;
      for (const x of this.#timers)
        if (x.at <= end && (!due || x.at < due.at || (x.at === due.at && x.id < due.id))) due = x;
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /** Lands the oldest `n` state saves in flight (all by default). */
  async landSaves(n = Infinity): Promise<void> {
    for (let i = 0; i < n && this.#saves.length > 0; i++) {
      const s = this.#saves.shift()!;
      this.disk = s.snap;
      s.resolve();
      await this.tick();
    }
  }

  /** Lands saves until none is in flight (bounded): what is left then waits on steps, timers or notifications. */
  async quiesce(): Promise<void> {
    for (let i = 0; i < 50 && this.#saves.length > 0; i++) await this.landSaves();
    await this.tick();
  }

  get savesInFlight(): number {
    return this.#saves.length;
  }

  /** Steps of the running process not finished yet. */
  inFlight(): WorldStep[] {
    return this.steps.filter((s) => !s.settled && s.gen === this.gen.n);
  }

  /**
   * Lets a running step finish with the outcome chosen when it started: at once, or once the engine has saved the
   * evidence it hands over first (the save may be waiting to land).
   */
  complete(step: WorldStep): void {
    if (step.completing) return;
    step.completing = true;
    void this.#evidence(step).then(() => {
      if (!this.#alive(step.gen) || step.settled) return;
      if (step.outcome !== 'skipped') this.#mutate(step);
      step.settled = true;
      step.resolve?.({ outcome: step.outcome, detail: `${step.req.action} ${step.outcome}`, calls: [step.req.action] });
    });
  }

  deliver(alerts: WebhookAlert[]): Promise<unknown> {
    return this.gen.intake.ingest({
      version: '4',
      receiver: 'remediator',
      status: alerts[0]!.status,
      groupKey: 'g',
      truncatedAlerts: 0,
      externalURL: 'http://am',
      alerts,
    });
  }

  /** SIGTERM: the running step is aborted at once (grace 0), state saved; then the next process starts. */
  async restartGracefully(): Promise<void> {
    this.autoSave = true;
    await this.landSaves();
    await this.gen.engine.stop(0);
    this.autoSave = false;
    this.#end();
    this.#boot();
  }

  /** SIGKILL: whatever was not saved is lost, the running step is cut wherever it was; then the next process. */
  crash(): void {
    this.#end();
    this.#boot();
  }

  resetBreaker(): void {
    this.resets.push(this.audit.length - 0.5);
    this.gen.engine.resetBreaker('operator');
  }

  #end(): void {
    this.gen.alive = false;
    this.#timers = this.#timers.filter((x) => x.gen !== this.gen.n);
    this.#saves = this.#saves.filter((s) => s.gen !== this.gen.n); // never land; their promises never settle
  }

  #boot(): void {
    const n = ++this.#gens;
    const state = parsePersistedState(this.disk);
    const pending = this.journal.filter((r) => r.seq > state.appliedSeq);
    const clock: Clock = {
      now: () => this.t,
      setTimer: (fn, ms) => {
        const id = ++this.#timerIds;
        this.#timers.push({ at: this.t + Math.max(0, ms), fn, id, gen: n });
        return () => (this.#timers = this.#timers.filter((x) => x.id !== id));
      },
    };
    const s = this.setup;
    const engine: RemediationEngine = new RemediationEngine(
      {
        cfg: s.cfg,
        targets: s.all.ollama,
        models: s.all.models,
        quiet: s.quiet,
        ports: this.#ports(n),
        audit: { write: async (e) => void (this.#alive(n) && this.audit.push({ ...e, gen: n, at: this.t })) },
        save: () => this.#save(n, engine),
        metrics: s.metrics,
        clock,
        log: SILENT,
        newId: () => `inc-${++this.#ids}`,
      },
      state,
    );
    const dedup = new DedupCache(50_000);
    for (const inc of state.book.incidents) for (const a of inc.alerts) dedup.add(alertKey(a));
    for (const rec of pending) dedup.add(alertKey(rec));
    const intake = new AlertIntake({
      journal: {
        append: async (recs) => {
          const out = recs.map((r, i) => ({ seq: this.journal.length + 1 + i, ...r }));
          this.journal.push(...out);
          return out;
        },
      },
      dedup,
      rules: s.rules,
      targetLabel: s.cfg.target_label,
      targetNames: s.all.ollama.map((t) => t.name),
      defaultSingleTarget: false,
      now: () => this.t,
      onRecorded: (records) => engine.accept(records),
      onDuplicates: (alerts) => engine.poke(alerts),
    });
    this.gen = { n, alive: true, engine, intake };
    engine.accept(pending);
    engine.start();
  }

  #alive(n: number): boolean {
    return this.gen.n === n && this.gen.alive;
  }

  #save(n: number, engine: RemediationEngine): Promise<void> {
    if (!this.#alive(n)) return NEVER;
    const snap = JSON.stringify(engine.snapshot());
    if (this.#saves.length === 0 && (this.autoSave || this.rng() < 0.5)) {
      this.disk = snap;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#saves.push({ snap, resolve, gen: n }));
  }

  #ports(n: number): RemediationPorts {
    return {
      diagnose: async (target) => {
        if (!this.#alive(n)) return NEVER;
        const obs = { ...OBS[this.condition[target.name]!](), target: target.name };
        // Sampled when asked: always newer than the notifications and steps before it.
        return { diagnosis: diagnoseTarget(obs), source: 'world', observedAtMs: this.t };
      },
      verify: async (target) => {
        if (!this.#alive(n)) return NEVER;
        const healthy = this.condition[target.name] === 'healthy';
        return { healthy, detail: healthy ? 'healthy' : 'still broken' };
      },
      actionHappened: async (_action, before) => {
        if (!this.#alive(n)) return NEVER;
        if (this.rng() < 0.2) return null;
        return this.steps.find((s) => s.id === before.step)?.mutated ?? false;
      },
      runStep: (req) => this.#runStep(n, req),
    };
  }

  async #runStep(n: number, req: ActionRequest): Promise<ActionResult> {
    if (!this.#alive(n)) return NEVER;
    if (req.dryRun) return { outcome: 'skipped', detail: 'dry-run', calls: [] };
    const order = this.audit.findLastIndex((e) => e.kind === 'intent' && e.incident === req.incidentId);
    const r = this.rng();
    const step: WorldStep = {
      id: this.steps.length + 1,
      gen: n,
      req,
      intentAt: this.audit[order]?.at ?? this.t,
      intentOrder: order,
      outcome: r < 0.7 ? 'done' : r < 0.9 ? 'failed' : 'skipped',
      mutateAtStart: this.rng() < 0.6,
      completing: false,
      mutated: false,
      settled: false,
    };
    this.steps.push(step);
    const result = new Promise<ActionResult>((resolve) => (step.resolve = resolve));
    const onAbort = () => {
      if (step.settled) return;
      step.settled = true;
      step.resolve!({ outcome: 'failed', detail: 'aborted', calls: [] });
    };
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    if (this.rng() < 0.7) await this.#evidence(step);
    return result;
  }

  /** What a real action does before its first change: hands over its evidence, which the engine saves. */
  #evidence(step: WorldStep): Promise<void> {
    step.evidence ??= (async () => {
      await step.req.onBefore?.({ step: step.id });
      if (!this.#alive(step.gen) || step.settled) return;
      if (step.mutateAtStart && step.outcome !== 'skipped') this.#mutate(step);
    })();
    return step.evidence;
  }

  #mutate(step: WorldStep): void {
    if (step.mutated) return;
    step.mutated = true;
    if (this.rng() < 0.5) this.condition[step.req.target.name] = 'healthy';
  }
}

export interface WorldSetup {
  readonly cfg: ReturnType<typeof loadRemediatorConfig>['cfg'];
  readonly all: ReturnType<typeof loadRemediatorConfig>['all'];
  readonly quiet: Map<string, QuietWindow>;
  readonly rules: ReturnType<typeof compileRules>;
  /** One set of metrics for every process of every interleaving: nothing reads them here. */
  readonly metrics: RemediatorMetrics;
  dispose(): void;
}

/** The configuration, parsed once for every interleaving. */
export function worldSetup(): WorldSetup {
  const { all, cfg } = loadRemediatorConfig(WORLD_YAML);
  const quiet = new Map(Object.entries(cfg.quiet_hours).map(([k, w]) => [k, new QuietWindow(k, w)]));
  return {
    all,
    cfg,
    quiet,
    rules: compileRules(cfg.rules),
    metrics: new RemediatorMetrics('test'),
    dispose: () => quiet.forEach((w) => w.destroy()),
  };
}

const SILENT = createLogger('silent');
