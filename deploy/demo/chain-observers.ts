/**
 * One reader per link of the healing chain, each returning what that link shows right now: the exporter's diagnosis,
 * Prometheus' alerts, the remediator's audit log and Docker's start times. The demo's scenario and the end-to-end test
 * poll them; none waits or retries itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ContainerSelector } from '../../shared/config/types.js';
import type { Diagnosis } from '../../shared/diagnosis/diagnose-target.js';
import { containerListFilter } from '../../shared/docker/container-list-filter.js';
import { AUDIT_FILE, type AuditEntry } from '../../remediator/state/audit-log.js';

/**
 * GET (or POST) a JSON document with a short deadline; a non-2xx answer is an error naming the URL and status. Also how
 * inject-fault.ts drives the simulator.
 */
export async function fetchJson(
  url: string,
  init: RequestInit & { readonly timeoutMs?: number } = {},
): Promise<unknown> {
  const { timeoutMs = 5000, ...rest } = init;
  const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** The exporter's current diagnosis of one target (from /api/state); null when the exporter does not know it yet. */
export async function readDiagnosis(exporterUrl: string, target: string): Promise<Diagnosis | null> {
  const state = (await fetchJson(`${exporterUrl}/api/state`)) as {
    targets?: Record<string, { diagnosis?: Diagnosis }>;
  };
  return state.targets?.[target]?.diagnosis ?? null;
}

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

/** One audit line with its timestamp and the raw text (printed as-is by the demo). */
export type AuditRecord = AuditEntry & { readonly ts: string; readonly raw: string };

/**
 * Every complete line of the remediator's audit log in `dataDir`; [] while it does not exist yet. A line still being
 * written (no newline yet) is left for the next read.
 */
export async function readAuditLog(dataDir: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, AUDIT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline: empty, or a line not yet complete
  return lines
    .filter((l) => l.trim() !== '')
    .map((raw) => ({ ...(JSON.parse(raw) as AuditEntry & { ts: string }), raw }));
}

/**
 * StartedAt (Docker's nanosecond text) of every running container of a target, by container name: a restart keeps
 * the id and name but always changes this.
 */
export async function readStartTimes(docker: Docker, selector: ContainerSelector): Promise<Record<string, string>> {
  const { filters, matches } = containerListFilter(selector);
  const listed = (await docker.listContainers({ all: false, filters })).filter(matches);
  const out: Record<string, string> = {};
  for (const c of listed) {
    const info = await docker.getContainer(c.Id).inspect();
    if (info.State.Running) out[info.Name.replace(/^\//, '')] = info.State.StartedAt;
  }
  return out;
}
