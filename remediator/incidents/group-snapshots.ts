/**
 * What the latest notification of each Alertmanager group listed as firing. A notification lists every alert its
 * group holds (the firing ones, and resolved ones not yet dropped), so an alert an earlier notification listed as
 * firing that the group's latest one does not list firing is no longer firing as far as Alertmanager knows. Its
 * resolution may never be sent: an Alertmanager that moved to another node (Swarm reschedules it when its node leaves)
 * starts empty and never notifies the end of an alert it did not see firing, and one that sent the resolution while
 * this remediator was down drops the alert afterwards. Counted as firing from the incident's own record, such an alert
 * makes the next node's fault look fleet-wide. In memory only: after a restart nothing is known and every alert counts
 * as its incident records it.
 */
export class GroupSnapshots {
  readonly #firing = new Map<string, ReadonlySet<string>>();

  constructor(private readonly maxGroups = 1000) {}

  /** One notification: its group key, its alerts, and how many Alertmanager left out (max_alerts). */
  note(
    groupKey: string,
    alerts: readonly { readonly fingerprint: string; readonly status: string }[],
    truncated: number,
  ): void {
    this.#firing.delete(groupKey);
    // A cut list says nothing of the alerts left out: unknown again, rather than a list that is too short.
    if (!groupKey || truncated > 0) return;
    this.#firing.set(groupKey, new Set(alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint)));
    if (this.#firing.size > this.maxGroups) this.#firing.delete(this.#firing.keys().next().value!);
  }

  /** False only when the latest notification of the alert's group is known and did not list it firing. */
  stillFiring(groupKey: string | undefined, fingerprint: string): boolean {
    const firing = groupKey ? this.#firing.get(groupKey) : undefined;
    return firing?.has(fingerprint) ?? true;
  }
}
