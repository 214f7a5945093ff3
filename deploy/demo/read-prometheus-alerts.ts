import { fetchJson } from './fetch-json.js';

/** One alert as Prometheus' /api/v1/alerts lists it (pending or firing; resolved ones are not listed). */
export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

/** The active alerts named `alertname` (all when omitted). */
export async function readPrometheusAlerts(prometheusUrl: string, alertname?: string): Promise<PrometheusAlert[]> {
  const body = (await fetchJson(`${prometheusUrl}/api/v1/alerts`)) as { data?: { alerts?: PrometheusAlert[] } };
  const alerts = body.data?.alerts ?? [];
  return alertname === undefined ? alerts : alerts.filter((a) => a.labels.alertname === alertname);
}
