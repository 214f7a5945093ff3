/** The parts of an Alertmanager webhook (payload version "4", Alertmanager >= 0.25) the remediator uses. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

export interface WebhookPayload {
  readonly version: '4';
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly externalURL: string;
  readonly alerts: readonly WebhookAlert[];
}

export interface PayloadLimits {
  readonly maxAlerts: number;
  /** Per alert; Prometheus series rarely have more than a few dozen. */
  readonly maxLabels: number;
  readonly maxLabelChars: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxAlerts: 1000, maxLabels: 128, maxLabelChars: 8192 };
