import type { JournalRecord } from '../journal/journal-record.js';
import { AlertMemory, type RememberedAlert } from './alert-memory.js';
import { MAX_ALERTS_PER_INCIDENT, type Incident, type IncidentOutcome } from './incident.js';

export type AlertEffect =
  | { readonly kind: 'refused' }
  | { readonly kind: 'opened'; readonly incident: Incident }
  | { readonly kind: 'joined'; readonly incident: Incident }
  | { readonly kind: 'refreshed'; readonly incident: Incident }
  /** A firing notification of an alert whose incident already closed: never reopened (no loops on repeat_interval). */
  | { readonly kind: 'closed_before'; readonly incidentId: string }
  /** A firing notification of an episode known to be over (its resolution overtook it, or a newer one began). */
  | { readonly kind: 'already_resolved' }
  /** Every alert of the incident resolved: pending and deferred work is cancelled. */
  | { readonly kind: 'all_resolved'; readonly incident: Incident }
  | { readonly kind: 'partly_resolved'; readonly incident: Incident }
  | { readonly kind: 'unknown_resolution' }
  /**
   * A firing alert of the target that started while the remediator's own step on it ran or was being verified (or a
   * re-send of one): the step caused it (a restart cuts probes short, takes the API down). No incident, no ladder.
   */
  | { readonly kind: 'own_step'; readonly incidentId: string; readonly action: string };

/** Memory's incident id for alerts caused by a step of incident <id>: they never join or open an incident. */
const OWN_STEP = 'own-step:';

export interface BookSnapshot {
  readonly incidents: Incident[];
  /** Every alert seen lately, whatever the size of its incident (see AlertMemory). Absent in 0.1.0's files. */
  readonly alerts?: RememberedAlert[];
  /** 0.1.0 only: [fingerprint|startsAt, incident id, closed at] of the alerts closed incidents listed. */
  readonly closedAlerts?: [string, string, number][];
}

/**
 * Open and recent incidents, and the pure rules that tie alerts to them: one rule on one target is one incident;
 * more alerts for it while open join it; resolutions cancel it once all its alerts resolved. Whether an alert was
 * seen, joined an incident or ended is kept apart from the incidents (AlertMemory), so it holds for an incident of
 * any size and after the incident is pruned from the history. No I/O here.
 */
export class IncidentBook {
  readonly #incidents = new Map<string, Incident>();
  readonly #memory: AlertMemory;

  constructor(
    private readonly historySize: number,
    snapshot?: BookSnapshot,
  ) {
    for (const i of snapshot?.incidents ?? []) this.#incidents.set(i.id, i);
    this.#memory = new AlertMemory(snapshot?.alerts ?? legacyMemory(snapshot));
  }

  get(id: string): Incident | undefined {
    return this.#incidents.get(id);
  }

  open(): Incident[] {
    return [...this.#incidents.values()].filter((i) => i.status === 'open');
  }

  /** Newest first. */
  recent(limit: number): Incident[] {
    return [...this.#incidents.values()]
      .sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1))
      .slice(0, limit);
  }

  /**
   * The key is rule and target, not node: a node's remediator only ever gets its own node's alerts, and the fleet
   * remediator (node_scope fleet) relies on alerts of one fault from different nodes meeting here (engine/fleet-gate.ts).
   */
  findOpen(rule: string, target: string): Incident | undefined {
    return this.open().find((i) => i.rule === rule && i.target === target);
  }

  /** Applies one journaled alert; idempotent, so replaying the journal after a crash is safe. */
  apply(rec: JournalRecord, now: number, newId: () => string, modelLabel: (rule: string) => string): AlertEffect {
    if (rec.refused || !rec.rule || !rec.target) return { kind: 'refused' };
    if (rec.status === 'resolved') {
      const id = this.#memory.noteResolved(rec.fingerprint, rec.startsAt, rec.endsAt, now);
      const inc = id ? this.#incidents.get(id) : undefined;
      if (!inc || inc.status !== 'open') return { kind: 'unknown_resolution' };
      const endsAt = Math.max(Date.parse(rec.startsAt), Date.parse(rec.endsAt) || 0);
      for (const a of inc.alerts)
        if (a.fingerprint === rec.fingerprint && Date.parse(a.startsAt) <= endsAt) a.status = 'resolved';
      inc.updatedAt = now;
      return this.#memory.anyFiring(inc.id)
        ? { kind: 'partly_resolved', incident: inc }
        : { kind: 'all_resolved', incident: inc };
    }
    const verdict = this.#memory.firing(rec.fingerprint, rec.startsAt);
    if (verdict.kind === 'known' && verdict.incident.startsWith(OWN_STEP)) {
      this.#memory.touch(rec.fingerprint, now);
      const [id, action] = verdict.incident.slice(OWN_STEP.length).split('#');
      return { kind: 'own_step', incidentId: id!, action: action ?? '' };
    }
    const own = verdict.kind === 'new' ? this.ownStepAt(rec.target, Date.parse(rec.startsAt), now) : undefined;
    if (own) {
      this.#memory.noteFiring(rec.fingerprint, rec.startsAt, `${OWN_STEP}${own.incident}#${own.action}`, now);
      return { kind: 'own_step', incidentId: own.incident, action: own.action };
    }
    if (verdict.kind === 'over') {
      this.#memory.touch(rec.fingerprint, now);
      return { kind: 'already_resolved' };
    }
    if (verdict.kind === 'known') {
      this.#memory.touch(rec.fingerprint, now);
      const inc = this.#incidents.get(verdict.incident);
      if (inc?.status !== 'open') return { kind: 'closed_before', incidentId: verdict.incident };
      inc.updatedAt = now;
      const listed = inc.alerts.find((a) => a.fingerprint === rec.fingerprint && a.startsAt === rec.startsAt);
      if (listed) listed.lastSeenAt = now;
      return { kind: 'refreshed', incident: inc };
    }
    const open = this.findOpen(rec.rule, rec.target);
    if (open) {
      this.#memory.noteFiring(rec.fingerprint, rec.startsAt, open.id, now);
      open.updatedAt = now;
      // The list is for people (capped); what was seen is remembered apart, whatever the incident's size.
      if (open.alerts.length < MAX_ALERTS_PER_INCIDENT) open.alerts.push(alertOf(rec, now));
      open.model ??= rec.labels[modelLabel(rec.rule)] || undefined;
      return { kind: 'joined', incident: open };
    }
    const model = Object.hasOwn(rec.labels, modelLabel(rec.rule)) ? rec.labels[modelLabel(rec.rule)] : undefined;
    const incident: Incident = {
      id: newId(),
      rule: rec.rule,
      target: rec.target,
      openedAt: now,
      updatedAt: now,
      status: 'open',
      phase: 'pending',
      alerts: [alertOf(rec, now)],
      ...(model ? { model } : {}),
      ladderPos: 0,
      attempts: 0,
      steps: [],
    };
    this.#incidents.set(incident.id, incident);
    this.#memory.noteFiring(rec.fingerprint, rec.startsAt, incident.id, now);
    return { kind: 'opened', incident };
  }

  /**
   * The remediator's own step on `target` whose window holds `atMs`: from its start to the end of the verification
   * after it (open-ended while it runs or is being verified). Dry-run and skipped steps changed nothing.
   */
  ownStepAt(target: string, atMs: number, now: number): { incident: string; action: string } | undefined {
    if (Number.isNaN(atMs)) return undefined;
    for (const inc of this.#incidents.values()) {
      if (inc.target !== target) continue;
      if (inc.inFlight && inc.inFlight.startedAt <= atMs) return { incident: inc.id, action: inc.inFlight.action };
      for (const step of inc.steps) {
        if (step.dryRun || step.outcome === 'skipped' || step.outcome === 'dry_run') continue;
        const end = step.verifiedAt ?? (inc.status === 'open' ? now : (step.finishedAt ?? step.startedAt));
        if (step.startedAt <= atMs && atMs <= end) return { incident: inc.id, action: step.action };
      }
    }
    return undefined;
  }

  /** A re-send answered by the intake without a journal line: the alert stays remembered. */
  touch(fingerprint: string, now: number): void {
    this.#memory.touch(fingerprint, now);
  }

  /** The open incident this alert fires for, if any. */
  firingIn(fingerprint: string): Incident | undefined {
    const id = this.#memory.firingIncident(fingerprint);
    const inc = id ? this.#incidents.get(id) : undefined;
    return inc?.status === 'open' ? inc : undefined;
  }

  /** Closes an incident; its alerts stay remembered, so their re-sends do not reopen it. */
  close(inc: Incident, outcome: IncidentOutcome, reason: string, now: number): void {
    inc.status = outcome;
    inc.reason = reason;
    inc.closedAt = now;
    inc.updatedAt = now;
    delete inc.phase;
    delete inc.deferredUntil;
    delete inc.recheckAt;
    delete inc.inFlight;
    delete inc.cancelRequested;
    this.#prune(now);
  }

  snapshot(): BookSnapshot {
    return { incidents: [...this.#incidents.values()], alerts: this.#memory.snapshot() };
  }

  #prune(now: number): void {
    const closed = [...this.#incidents.values()]
      .filter((i) => i.status !== 'open')
      .sort((a, b) => (b.closedAt ?? 0) - (a.closedAt ?? 0));
    for (const old of closed.slice(this.historySize)) this.#incidents.delete(old.id);
    this.#memory.prune(now, (id) => this.#incidents.get(id)?.status === 'open');
  }
}

function alertOf(rec: JournalRecord, now: number) {
  return {
    fingerprint: rec.fingerprint,
    startsAt: rec.startsAt,
    status: 'firing' as const,
    labels: rec.labels,
    ...(rec.summary ? { summary: rec.summary } : {}),
    lastSeenAt: now,
    ...(rec.groupKey ? { groupKey: rec.groupKey } : {}),
  };
}

/** 0.1.0 kept the alerts of closed incidents by "fingerprint|startsAt", and open incidents' in their lists. */
function legacyMemory(snapshot: BookSnapshot | undefined): RememberedAlert[] {
  const out = new Map<string, RememberedAlert>();
  const keep = (r: RememberedAlert) => {
    const known = out.get(r[0]);
    if (!known || Date.parse(known[1]) <= Date.parse(r[1])) out.set(r[0], r);
  };
  for (const [key, id, at] of snapshot?.closedAlerts ?? []) {
    const cut = key.indexOf('|');
    keep([key.slice(0, cut), key.slice(cut + 1), null, id, at]);
  }
  for (const inc of snapshot?.incidents ?? []) {
    if (inc.status !== 'open') continue;
    for (const a of inc.alerts)
      keep([a.fingerprint, a.startsAt, a.status === 'resolved' ? Date.parse(a.startsAt) : null, inc.id, a.lastSeenAt]);
  }
  return [...out.values()];
}
