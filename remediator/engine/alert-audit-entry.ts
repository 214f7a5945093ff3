import type { AlertEffect } from '../incidents/incident-book.js';
import type { JournalRecord } from '../journal/journal-record.js';
import type { AuditEntry } from '../state/audit-log.js';

/** The audit line for what one journaled alert did to the incidents (opened, joined, resolved, refused...). */
export function alertAuditEntry(rec: JournalRecord, effect: AlertEffect): AuditEntry {
  const alert = {
    fingerprint: rec.fingerprint,
    startsAt: rec.startsAt,
    status: rec.status,
    ...(rec.labels.alertname ? { alertname: rec.labels.alertname } : {}),
  };
  const where = { rule: rec.rule, target: rec.target, alert };
  switch (effect.kind) {
    case 'refused':
      return {
        kind: 'alert',
        decision: 'skipped',
        reason: rec.refused ?? 'refused',
        alert,
        ...(rec.target ? { target: rec.target } : {}),
        ...(rec.detail ? { detail: rec.detail } : {}),
        // Which node the alert was for, and which node this remediator was on when it arrived.
        ...(rec.node ? { alert_node: rec.node.alert ?? null, own_node: rec.node.own ?? null } : {}),
      };
    case 'closed_before':
      return { kind: 'alert', decision: 'skipped', reason: 'incident_closed', incident: effect.incidentId, ...where };
    case 'already_resolved':
      return { kind: 'alert', decision: 'skipped', reason: 'already_resolved', ...where };
    case 'opened':
    case 'joined':
    case 'refreshed':
    case 'all_resolved':
    case 'partly_resolved':
      return { kind: 'alert', incident: effect.incident.id, ...where, result: effect.kind };
    case 'own_step':
      return {
        kind: 'alert',
        decision: 'skipped',
        reason: 'caused_by_own_step',
        incident: effect.incidentId,
        action: effect.action,
        detail: `started during the remediator's own ${effect.action} on ${rec.target} (incident ${effect.incidentId}) or its verification: caused by it, not a new fault`,
        ...where,
      };
    case 'unknown_resolution':
      return { kind: 'alert', ...where, result: effect.kind };
  }
}
