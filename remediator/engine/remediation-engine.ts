import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/log/create-logger.js';
import { normalizeModelName } from '../../shared/ollama/normalize-model-name.js';
import type { WebhookAlert } from '../ingress/webhook-payload.js';
import { GroupSnapshots } from '../incidents/group-snapshots.js';
import { IncidentBook } from '../incidents/incident-book.js';
import { newIncidentId, type Incident } from '../incidents/incident.js';
import type { JournalRecord } from '../journal/journal-record.js';
import type { RemediatorMetrics } from '../remediator-metrics.js';
import { resetBreaker } from '../policy/check-safety.js';
import type { SafetyLimits, SafetyState } from '../policy/safety-state.js';
import type { QuietWindow } from '../quiet/quiet-window.js';
import type { RemediatorConfig } from '../remediator-section.js';
import type { AuditEntry, AuditLog } from '../state/audit-log.js';
import { AuditBacklog } from '../state/audit-backlog.js';
import type { PersistedState } from '../state/persisted-state.js';
import { alertAuditEntry } from './alert-audit-entry.js';
import type { Clock } from './clock.js';
import { closeIncident } from './close-incident.js';
import type { EngineContext } from './engine-context.js';
import { healIncident } from './heal-incident.js';
import { noteNotified } from './diagnose-fresh.js';
import { holdForQuietHours } from './hold-for-quiet-hours.js';
import { IncidentTimers } from './incident-timers.js';
import { recoverInFlight } from './recover-in-flight.js';
import type { Notifier, RemediationPorts, Silencer } from './remediation-ports.js';
import { TargetLock } from './target-lock.js';

export interface EngineDeps {
  readonly cfg: RemediatorConfig;
  readonly targets: readonly OllamaTargetConfig[];
  readonly models: readonly ModelConfig[];
  readonly quiet: ReadonlyMap<string, QuietWindow>;
  readonly ports: RemediationPorts;
  readonly audit: Pick<AuditLog, 'write'>;
  /** Persists `snapshot()`; resolves once a snapshot taken after the call is durable. */
  save(): Promise<void>;
  readonly metrics: RemediatorMetrics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly silencer?: Silencer;
  readonly notifier?: Notifier;
  readonly newId?: (now: number) => string;
  readonly groups?: GroupSnapshots; // fed by the intake (EngineContext.groups); none: nothing known
}

/**
 * Turns recorded alerts into incidents and drives each one (quiet hours, target lock, diagnosis, ladder) in the
 * background. All state it keeps is in `snapshot()`; `start()` resumes whatever a previous run left unfinished.
 */
export class RemediationEngine {
  readonly #d: EngineDeps;
  readonly #book: IncidentBook;
  readonly #safety: SafetyState;
  readonly #limits: SafetyLimits;
  readonly #locks: TargetLock;
  readonly #auditLog: AuditBacklog;
  readonly #ctx: EngineContext;
  readonly #driving = new Map<string, Promise<void>>();
  readonly #timers: IncidentTimers;
  /** Incidents woken while being driven: driven once more when the drive ends. */
  readonly #again = new Set<string>();
  readonly #stopAbort = new AbortController();
  readonly #stepAbort = new AbortController();
  #appliedSeq: number;
  #stopping = false;

  constructor(deps: EngineDeps, initial: PersistedState) {
    this.#d = deps;
    const cfg = deps.cfg;
    this.#book = new IncidentBook(cfg.history_size, initial.book);
    this.#safety = structuredClone(initial.safety);
    this.#appliedSeq = initial.appliedSeq;
    this.#limits = {
      cooldownMs: cfg.cooldown_ms,
      maxAttemptsPerIncident: cfg.max_attempts_per_incident,
      breakerMaxActions: cfg.breaker_max_actions,
      breakerWindowMs: cfg.breaker_window_ms,
    };
    this.#locks = new TargetLock(deps.clock);
    this.#auditLog = new AuditBacklog(deps.audit, () => deps.clock.now(), deps.log);
    this.#timers = new IncidentTimers(deps.clock);
    const rules = new Map(cfg.rules.map((r) => [r.name, r]));
    this.#ctx = {
      cfg,
      ports: deps.ports,
      clock: deps.clock,
      log: deps.log,
      metrics: deps.metrics,
      book: this.#book,
      groups: deps.groups ?? new GroupSnapshots(),
      safety: this.#safety,
      limits: this.#limits,
      ...(deps.silencer ? { silencer: deps.silencer } : {}),
      ...(deps.notifier ? { notifier: deps.notifier } : {}),
      abortSteps: this.#stepAbort.signal,
      stopping: () => this.#stopping,
      rule: (name) => rules.get(name),
      target: (name) => deps.targets.find((t) => t.name === name),
      model: (target, name) => this.#model(target, name),
      save: () => deps.save(),
      audit: (entry) => this.#audit(entry),
      close: (inc, outcome, reason, detail) => closeIncident(this.#ctx, inc, outcome, reason, detail),
      waitFor: (inc, reason, detail, until) => {
        inc.phase = 'waiting';
        inc.reason = `${reason}: ${detail}`;
        inc.updatedAt = deps.clock.now();
        inc.recheckAt = this.#timers.recheckAt(inc.id, reason, until);
      },
    };
    deps.metrics.breakerOpen.set(this.#safety.breaker.open ? 1 : 0);
  }

  /** Resumes after a restart: interrupted steps are judged, deferred and waiting work re-armed, pending work driven. */
  start(): void {
    for (const inc of this.#book.open()) {
      if (inc.inFlight || inc.phase === 'running' || inc.phase === 'pending') {
        inc.phase = 'pending';
        this.#kick(inc);
      } else if (inc.phase === 'deferred') this.#armDeferred(inc);
      else this.#armRecheck(inc);
    }
    this.#refreshGauges();
  }

  /** Applies durably recorded alerts (from the webhook or a journal replay). */
  accept(records: readonly JournalRecord[]): void {
    const now = this.#d.clock.now();
    for (const rec of records) {
      if (rec.seq <= this.#appliedSeq) continue; // replayed twice: already applied
      this.#appliedSeq = rec.seq;
      const effect = this.#book.apply(
        rec,
        now,
        () => (this.#d.newId ?? newIncidentId)(now),
        (rule) => this.#ctx.rule(rule)?.model_label ?? 'model',
      );
      const entry = alertAuditEntry(rec, effect);
      if (effect.kind === 'refused') this.#d.log.info({ alert: entry.alert, reason: rec.refused }, 'alert refused');
      if (effect.kind === 'own_step') this.#d.metrics.skips.inc({ reason: 'caused_by_own_step' });
      void this.#audit(entry);
      if (effect.kind === 'opened' || effect.kind === 'joined' || effect.kind === 'refreshed') {
        noteNotified(effect.incident, rec.receivedAt > 0 ? rec.receivedAt : now);
        this.#wake(effect.incident);
      } else if (effect.kind === 'all_resolved') this.#cancel(effect.incident);
    }
    this.#refreshGauges();
    void this.#d.save().catch((err: Error) => this.#d.log.error({ err: err.message }, 'cannot save state'));
  }

  /**
   * Re-sends of recorded alerts: they keep their alerts remembered, and an open incident one of them still fires for
   * gets another look, whatever it waits on.
   */
  poke(alerts: readonly WebhookAlert[]): void {
    const now = this.#d.clock.now();
    for (const a of alerts) {
      this.#book.touch(a.fingerprint, now);
      const inc = a.status === 'firing' ? this.#book.firingIn(a.fingerprint) : undefined;
      if (inc) {
        noteNotified(inc, now);
        this.#wake(inc);
      }
    }
  }

  resetBreaker(by: string): { wasOpen: boolean } {
    const wasOpen = resetBreaker(this.#safety, this.#d.clock.now(), by);
    this.#d.metrics.breakerOpen.set(0);
    this.#d.log.warn({ by, wasOpen }, 'circuit breaker reset by an operator');
    void this.#audit({ kind: 'breaker', result: 'reset', detail: `reset by ${by}`, was_open: wasOpen });
    for (const inc of this.#book.open())
      if (inc.phase === 'waiting' && reasonName(inc) === 'breaker_open') this.#wake(inc);
    void this.#d.save().catch((err: Error) => this.#d.log.error({ err: err.message }, 'cannot save state'));
    return { wasOpen };
  }

  breakerOpen(): boolean {
    return this.#safety.breaker.open;
  }

  /** Whether a target is being healed right now (scheduled jobs stay away from it). */
  targetBusy(target: string): boolean {
    return this.#locks.isHeld(target);
  }

  /** For scheduled jobs: the same per-target lock the healing uses. */
  lockTarget(target: string, waitMs: number): Promise<(() => void) | null> {
    return this.#locks.acquire(target, waitMs, this.#stopAbort.signal);
  }

  incidents(limit: number): { incidents: Incident[]; breaker: SafetyState['breaker'] } {
    return { incidents: this.#book.recent(limit), breaker: this.#safety.breaker };
  }

  snapshot(): PersistedState {
    return {
      version: 2,
      savedAt: this.#d.clock.now(),
      appliedSeq: this.#appliedSeq,
      book: this.#book.snapshot(),
      safety: this.#safety,
    };
  }

  /** Resolves when no incident is being driven (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#driving.size > 0) await Promise.allSettled([...this.#driving.values()]);
  }

  /**
   * Stops taking new work, lets a running step finish for up to `graceMs` (then aborts it; its intent stays on
   * disk for the next start to judge), and persists the state.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#stopAbort.abort(new Error('shutting down'));
    this.#timers.cancelAll();
    const drained = this.idle();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    if ((await Promise.race([drained.then(() => 'done' as const), graceOver])) === 'timeout') {
      this.#d.log.warn({ graceMs }, 'shutdown grace over: aborting the running step');
      this.#stepAbort.abort(new Error('shutdown grace over'));
      await Promise.race([drained, new Promise((r) => setTimeout(r, 5_000).unref())]);
    }
    clearTimeout(timer);
    await this.#auditLog.flush();
    await this.#d.save();
  }

  /**
   * Something may change the incident's course (an alert joined or was re-sent, the breaker was reset, its re-check
   * is due): drive it now, or once more right after the drive in progress, so that nothing that arrives while a
   * drive is finishing is lost. Deferred incidents wait for their window's end; closed ones stay closed.
   */
  #wake(inc: Incident): void {
    if (inc.status !== 'open' || inc.phase === 'deferred') return;
    if (this.#driving.has(inc.id)) {
      this.#again.add(inc.id);
      return;
    }
    this.#timers.cancel(inc.id);
    this.#timers.forgetLooks(inc.id);
    inc.phase = 'pending';
    this.#kick(inc);
  }

  #kick(inc: Incident): void {
    if (this.#stopping || this.#driving.has(inc.id)) return;
    delete inc.recheckAt;
    const run = this.#drive(inc)
      .catch((err: Error) => {
        this.#d.log.error({ incident: inc.id, err: err.message, stack: err.stack }, 'incident driver failed');
        if (inc.status === 'open') this.#ctx.waitFor(inc, 'driver_failed', err.message);
      })
      .finally(() => {
        this.#driving.delete(inc.id);
        this.#afterDrive(inc);
        this.#refreshGauges();
      });
    this.#driving.set(inc.id, run);
  }

  /** Every drive ends with the incident closed, deferred (timer), waiting (timer), or driven once more. */
  #afterDrive(inc: Incident): void {
    const again = this.#again.delete(inc.id);
    if (inc.status !== 'open') {
      this.#timers.forgetLooks(inc.id);
      return;
    }
    if (this.#stopping) return; // start() picks it up after the restart
    if ((again || inc.cancelRequested) && inc.phase !== 'deferred') {
      inc.phase = 'pending';
      this.#kick(inc);
    } else if (inc.phase !== 'deferred') {
      // Waiting, or a drive that ended without a decision (it cannot, but an incident must never be left behind).
      if (inc.phase !== 'waiting') this.#ctx.waitFor(inc, 'undecided', 'the last drive ended without a decision');
      this.#armRecheck(inc);
    }
  }

  async #drive(inc: Incident): Promise<void> {
    await Promise.resolve(); // let the caller finish its synchronous bookkeeping first
    if (inc.status !== 'open') return;
    const rule = this.#ctx.rule(inc.rule);
    if (!rule)
      return closeIncident(this.#ctx, inc, 'dropped', 'rule_removed', `rule "${inc.rule}" is no longer configured`);
    if (!inc.inFlight && rule.quiet) {
      const held = await holdForQuietHours(this.#ctx, inc, rule, this.#d.quiet.get(rule.quiet), this.#d.clock.now());
      if (held === 'deferred') this.#armDeferred(inc);
      if (held !== 'go') return;
    }
    inc.phase = 'running';
    delete inc.deferredUntil;
    const release = await this.#locks.acquire(inc.target, this.#d.cfg.lock_wait_ms, this.#stopAbort.signal);
    if (!release) {
      if (this.#stopping) {
        inc.phase = 'pending';
        return;
      }
      this.#d.metrics.skips.inc({ reason: 'locked' });
      await this.#audit({
        kind: 'decision',
        decision: 'skipped',
        reason: 'locked',
        incident: inc.id,
        rule: inc.rule,
        target: inc.target,
        detail: `another incident held ${inc.target} for longer than lock_wait`,
      });
      this.#ctx.waitFor(inc, 'locked', 'the target was busy for longer than lock_wait');
      return;
    }
    try {
      // An interrupted step is judged first, even when every alert resolved meanwhile: whether it happened must
      // reach the cooldowns, the attempt count and the breaker.
      if (inc.inFlight && (await recoverInFlight(this.#ctx, inc))) return;
      if (inc.status !== 'open') return;
      if (inc.cancelRequested)
        return await closeIncident(this.#ctx, inc, 'resolved', 'resolved', 'every alert of the incident resolved');
      await healIncident(this.#ctx, inc, rule, rule.dry_run ?? this.#d.cfg.dry_run);
    } finally {
      release();
    }
  }

  /**
   * Cancels pending and deferred work; a running step finishes first, and a step interrupted by a restart is judged
   * first, then the incident stops.
   */
  #cancel(inc: Incident): void {
    this.#timers.cancel(inc.id);
    if (this.#driving.has(inc.id) || inc.inFlight) {
      inc.cancelRequested = true;
      if (inc.inFlight && !this.#driving.has(inc.id)) {
        inc.phase = 'pending';
        this.#kick(inc);
      }
      return;
    }
    // A fleet incident waits for its alerts to resolve after its step (heal-fleet-incident.ts): then something ran.
    const why = inc.steps.length > 0 ? 'after its last step' : 'before anything ran';
    void closeIncident(this.#ctx, inc, 'resolved', 'resolved', `every alert of the incident resolved ${why}`).then(() =>
      this.#refreshGauges(),
    );
  }

  #armDeferred(inc: Incident): void {
    this.#setTimer(inc, inc.deferredUntil ?? 0, 'deferred', () => {
      // The window is over: act if the alert still fires (a resolution would have closed the incident).
      delete inc.deferredUntil;
    });
  }

  /** The backstop for a waiting incident: look again at `recheckAt` even if no notification ever comes. */
  #armRecheck(inc: Incident): void {
    inc.recheckAt ??= this.#timers.recheckAt(inc.id, reasonName(inc));
    this.#setTimer(inc, inc.recheckAt, 'waiting', () => this.#timers.looked(inc.id));
  }

  #setTimer(inc: Incident, at: number, phase: 'deferred' | 'waiting', before: () => void): void {
    this.#timers.set(inc.id, at, () => {
      if (inc.status !== 'open' || inc.phase !== phase || this.#stopping) return;
      before();
      inc.phase = 'pending';
      this.#kick(inc);
    });
    this.#refreshGauges();
  }

  #model(target: string, name?: string): ModelConfig | undefined {
    const forTarget = this.#d.models.filter((m) => m.targets.length === 0 || m.targets.includes(target));
    if (name) {
      let wanted: string;
      try {
        wanted = normalizeModelName(name);
      } catch {
        return undefined;
      }
      return forTarget.find((m) => m.name === wanted);
    }
    return forTarget.find((m) => m.keep_warm) ?? forTarget[0];
  }

  #audit(entry: AuditEntry): Promise<boolean> {
    return this.#auditLog.write(entry);
  }

  #refreshGauges(): void {
    const open = this.#book.open();
    this.#d.metrics.incidentsOpen.set(open.length);
    this.#d.metrics.deferred.set(open.filter((i) => i.phase === 'deferred').length);
  }
}

/** The condition an incident waits on: the first word of its reason ("cooldown", "breaker_open", "inconclusive"...). */
function reasonName(inc: Incident): string {
  return (inc.reason ?? '').split(':')[0]!;
}
