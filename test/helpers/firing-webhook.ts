import { randomBytes } from 'node:crypto';

/**
 * An Alertmanager webhook (payload version 4) carrying one firing alert with `labels`, as Alertmanager posts it to a
 * receiver. `fingerprint` defaults to a fresh random one (each call a distinct alert for the remediator's dedup).
 */
export function firingWebhook(
  labels: Readonly<Record<string, string>>,
  opts: { readonly startsAt?: Date; readonly fingerprint?: string } = {},
): Record<string, unknown> {
  const alertname = labels.alertname ?? '';
  return {
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'sentinel-remediator',
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: {},
        startsAt: (opts.startsAt ?? new Date()).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://127.0.0.1:9090/graph',
        fingerprint: opts.fingerprint ?? randomBytes(8).toString('hex'),
      },
    ],
  };
}
