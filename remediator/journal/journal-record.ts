/** Why an alert is recorded but not acted on; also the `reason` label of the refused counter. */
export type RefusalReason =
  | 'no_target_label'
  | 'unknown_target'
  | 'no_matching_rule'
  /** In a Swarm: the alert's node label names another node (node_scope). */
  | 'other_node'
  /** In a Swarm with require_node_label (or node_scope fleet): the alert names no node. */
  | 'no_node_label'
  /** node_scope fleet on a remediator whose Docker is not a Swarm manager: it may take no step at all. */
  | 'not_manager';

/** One alert as accepted from a webhook, before anything is done about it. Durable before the 2xx is sent. */
export interface JournalRecord {
  /** Monotonic across restarts; state remembers the last one applied. */
  readonly seq: number;
  readonly receivedAt: number;
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly startsAt: string;
  readonly endsAt: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly summary?: string;
  readonly receiver: string;
  readonly groupKey: string;
  /** Resolved target and rule; absent when refused. */
  readonly target?: string;
  readonly rule?: string;
  readonly refused?: RefusalReason;
  /** Node refusals: the node the alert was for and the node this remediator ran on when it arrived (absent in older records). */
  readonly node?: { readonly alert?: string; readonly own?: string };
  /** Why it was refused, in words (node refusals; absent in older records). */
  readonly detail?: string;
}

/** Identity of one notification of one alert: Alertmanager re-sends exactly this on repeat and in HA pairs. */
export function alertKey(a: {
  readonly fingerprint: string;
  readonly startsAt: string;
  readonly status: string;
}): string {
  return `${a.fingerprint}|${a.startsAt}|${a.status}`;
}
