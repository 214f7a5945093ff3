import type { JournalRecord } from '../journal/journal-record.js';
import { MAX_ALERTS_PER_INCIDENT, type Incident, type IncidentOutcome } from './incident.js';

export type AlertEffect =
  | { readonly kind: 'refused' }
  | { readonly kind: 'opened'; readonly incident: Incident }
  | { readonly kind: 'joined'; readonly incident: Incident }
  | { readonly kind: 'refreshed'; readonly incident: Incident }
  /** A firing notification of an alert whose incident already closed: never reopened (no loops on repeat_interval). */
  | { readonly kind: 'closed_before'; readonly incidentId: string }
  /** Every alert of the incident resolved: pending and deferred work is cancelled. */
  | { readonly kind: 'all_resolved'; readonly incident: Incident }
  | { readonly kind: 'partly_resolved'; readonly incident: Incident }
  | { readonly kind: 'unknown_resolution' };

export interface BookSnapshot {
  readonly incidents: Incident[];
  /** [fingerprint|startsAt, incident id, closed at]: alerts of closed incidents. */
  readonly closedAlerts: [string, string, number][];
}

const CLOSED_ALERT_TTL_MS = 8 * 24 * 3_600_000;
const MAX_CLOSED_ALERTS = 20_000;

/**
 * Open and recent incidents, and the pure rules that tie alerts to them: one rule on one target is one incident;
 * more alerts for it while open join it; resolutions cancel it once all its alerts resolved. No I/O here.
 */
export class IncidentBook {
  readonly #incidents = new Map<string, Incident>();
  readonly #closedAlerts = new Map<string, { id: string; at: number }>();

  constructor(
    private readonly historySize: number,
    snapshot?: BookSnapshot,
  ) {
    for (const i of snapshot?.incidents ?? []) this.#incidents.set(i.id, i);
    for (const [k, id, at] of snapshot?.closedAlerts ?? []) this.#closedAlerts.set(k, { id, at });
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

  findOpen(rule: string, target: string): Incident | undefined {
    return this.open().find((i) => i.rule === rule && i.target === target);
  }

  /** Applies one journaled alert; idempotent, so replaying the journal after a crash is safe. */
  apply(rec: JournalRecord, now: number, newId: () => string, modelLabel: (rule: string) => string): AlertEffect {
    if (rec.refused || !rec.rule || !rec.target) return { kind: 'refused' };
    const identity = `${rec.fingerprint}|${rec.startsAt}`;
    const open = this.findOpen(rec.rule, rec.target);
    if (rec.status === 'resolved') {
      const inc = open && open.alerts.some((a) => a.fingerprint === rec.fingerprint) ? open : undefined;
      if (!inc) return { kind: 'unknown_resolution' };
      for (const a of inc.alerts)
        if (a.fingerprint === rec.fingerprint && a.startsAt === rec.startsAt) a.status = 'resolved';
      inc.updatedAt = now;
      return inc.alerts.every((a) => a.status === 'resolved')
        ? { kind: 'all_resolved', incident: inc }
        : { kind: 'partly_resolved', incident: inc };
    }
    if (open) {
      const known = open.alerts.find((a) => a.fingerprint === rec.fingerprint && a.startsAt === rec.startsAt);
      open.updatedAt = now;
      if (known) {
        known.status = 'firing';
        known.lastSeenAt = now;
        return { kind: 'refreshed', incident: open };
      }
      if (open.alerts.length < MAX_ALERTS_PER_INCIDENT) open.alerts.push(alertOf(rec, now));
      open.model ??= rec.labels[modelLabel(rec.rule)] || undefined;
      return { kind: 'joined', incident: open };
    }
    const closed = this.#closedAlerts.get(identity);
    if (closed) return { kind: 'closed_before', incidentId: closed.id };
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
    return { kind: 'opened', incident };
  }

  /** Closes an incident; its alerts are remembered so their re-sends do not reopen it. */
  close(inc: Incident, outcome: IncidentOutcome, reason: string, now: number): void {
    inc.status = outcome;
    inc.reason = reason;
    inc.closedAt = now;
    inc.updatedAt = now;
    delete inc.phase;
    delete inc.deferredUntil;
    delete inc.inFlight;
    delete inc.cancelRequested;
    for (const a of inc.alerts) this.#closedAlerts.set(`${a.fingerprint}|${a.startsAt}`, { id: inc.id, at: now });
    this.#prune(now);
  }

  snapshot(): BookSnapshot {
    return {
      incidents: [...this.#incidents.values()],
      closedAlerts: [...this.#closedAlerts].map(([k, v]) => [k, v.id, v.at]),
    };
  }

  #prune(now: number): void {
    const closed = [...this.#incidents.values()]
      .filter((i) => i.status !== 'open')
      .sort((a, b) => (b.closedAt ?? 0) - (a.closedAt ?? 0));
    for (const old of closed.slice(this.historySize)) this.#incidents.delete(old.id);
    for (const [k, v] of this.#closedAlerts) if (now - v.at > CLOSED_ALERT_TTL_MS) this.#closedAlerts.delete(k);
    while (this.#closedAlerts.size > MAX_CLOSED_ALERTS)
      this.#closedAlerts.delete(this.#closedAlerts.keys().next().value!);
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
  };
}
