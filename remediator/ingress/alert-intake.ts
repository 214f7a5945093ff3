import type { AlertJournal } from '../journal/alert-journal.js';
import type { DedupCache } from '../journal/dedup-cache.js';
import { alertKey, type JournalRecord, type RefusalReason } from '../journal/journal-record.js';
import type { NodeVerdict } from '../node/own-node.js';
import { matchRule, type CompiledRule } from '../policy/match-rule.js';
import { resolveTarget } from '../policy/resolve-target.js';
import type { WebhookAlert, WebhookPayload } from './webhook-payload.js';

export interface IngestReport {
  /** Recorded and handed to a rule (refused ones are recorded too, but listed apart). */
  readonly accepted: number;
  readonly duplicates: number;
  readonly refused: readonly {
    readonly fingerprint: string;
    readonly reason: RefusalReason;
    readonly detail: string;
  }[];
}

export interface AlertIntakeDeps {
  readonly journal: Pick<AlertJournal, 'append'>;
  readonly dedup: DedupCache;
  readonly rules: readonly CompiledRule[];
  readonly targetLabel: string;
  readonly targetNames: readonly string[];
  readonly defaultSingleTarget: boolean;
  now(): number;
  /**
   * Whether each alert (by its labels) is for this node (node_scope); absent: every alert is. Asked before anything
   * is recorded: an alert whose node cannot be told now makes the webhook answer 503, so Alertmanager sends it again.
   */
  judgeNodes?(labels: readonly Readonly<Record<string, string>>[]): Promise<readonly NodeVerdict[]>;
  /** Called after the records are durable; the work happens from here, asynchronously. */
  onRecorded(records: readonly JournalRecord[]): void;
  /** Re-sends of alerts already recorded: may wake an open incident that was waiting, never re-journaled. */
  onDuplicates(alerts: readonly WebhookAlert[]): void;
  /** The whole notification, before anything is recorded: what its group lists firing now (GroupSnapshots). */
  onGroup?(payload: WebhookPayload): void;
}

/** Thrown when the alerts cannot be recorded durably: the webhook answers 503 so Alertmanager retries. */
export class IntakeUnavailableError extends Error {
  override readonly name = 'IntakeUnavailableError';
}

/**
 * Classifies each alert of a webhook (duplicate, refused with a reason, or for a rule and target), records every
 * non-duplicate durably in one grouped write, and only then hands them on. Concurrent requests carrying the same
 * alert write it once: the second waits for the first.
 */
export class AlertIntake {
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: AlertIntakeDeps) {}

  async ingest(payload: WebhookPayload): Promise<IngestReport> {
    const d = this.deps;
    d.onGroup?.(payload);
    const fresh: Omit<JournalRecord, 'seq'>[] = [];
    const dupAlerts: WebhookAlert[] = [];
    const waits: Promise<void>[] = [];
    const seen = new Set<string>();
    const refused: { fingerprint: string; reason: RefusalReason; detail: string }[] = [];
    const undecided: string[] = [];
    const verdicts = d.judgeNodes ? await d.judgeNodes(payload.alerts.map((a) => a.labels)) : undefined;
    const now = d.now();
    for (const [i, alert] of payload.alerts.entries()) {
      const key = alertKey(alert);
      if (seen.has(key) || d.dedup.has(key)) {
        dupAlerts.push(alert);
        continue;
      }
      const pending = this.#inFlight.get(key);
      if (pending) {
        waits.push(pending);
        dupAlerts.push(alert);
        continue;
      }
      seen.add(key);
      const node: NodeVerdict = verdicts?.[i] ?? { ok: true };
      if (!node.ok && 'unknown' in node) {
        undecided.push(node.unknown);
        continue;
      }
      const where = resolveTarget(alert.labels, d.targetLabel, d.targetNames, d.defaultSingleTarget);
      const rule = 'target' in where ? matchRule(d.rules, alert.labels) : undefined;
      const base = {
        receivedAt: now,
        fingerprint: alert.fingerprint,
        status: alert.status,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        labels: alert.labels,
        ...(alert.annotations.summary ? { summary: alert.annotations.summary.slice(0, 500) } : {}),
        receiver: payload.receiver,
        groupKey: payload.groupKey,
      };
      if (!node.ok) {
        // Before the target: another node's "main" is not this node's "main", whatever the name says.
        refused.push({ fingerprint: alert.fingerprint, reason: node.refused, detail: node.detail });
        fresh.push({
          ...base,
          refused: node.refused,
          detail: node.detail,
          node: {
            ...(node.alertNode !== undefined ? { alert: node.alertNode } : {}),
            ...(node.ownNode !== undefined ? { own: node.ownNode } : {}),
          },
        });
      } else if ('refused' in where) {
        refused.push({ fingerprint: alert.fingerprint, reason: where.refused, detail: where.detail });
        fresh.push({ ...base, refused: where.refused });
      } else if (!rule) {
        const detail = 'no remediator rule matches its labels';
        refused.push({ fingerprint: alert.fingerprint, reason: 'no_matching_rule', detail });
        fresh.push({ ...base, target: where.target, refused: 'no_matching_rule' });
      } else fresh.push({ ...base, target: where.target, rule: rule.rule.name });
    }

    if (undecided.length > 0) throw new IntakeUnavailableError(`${undecided[0]!}; send again later`);
    if (fresh.length > 0) {
      const write = d.journal.append(fresh);
      const done = write.then(() => undefined);
      done.catch(() => undefined); // waiters attach their own handlers; without waiters the failure is reported below
      for (const r of fresh) this.#inFlight.set(alertKey(r), done);
      let records: JournalRecord[];
      try {
        records = await write;
      } catch (err) {
        throw new IntakeUnavailableError(
          `cannot record the alerts durably: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      } finally {
        for (const r of fresh) this.#inFlight.delete(alertKey(r));
      }
      for (const r of records) d.dedup.add(alertKey(r));
      d.onRecorded(records);
    }
    try {
      // A duplicate of an alert another request is writing is only "recorded" once that write succeeded.
      await Promise.all(waits);
    } catch (err) {
      throw new IntakeUnavailableError(
        `cannot record the alerts durably: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (dupAlerts.length > 0) d.onDuplicates(dupAlerts);
    return { accepted: fresh.length - refused.length, duplicates: dupAlerts.length, refused };
  }
}
