import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { Incident } from '../incidents/incident.js';
import { clockSignal } from './clock.js';
import type { EngineContext } from './engine-context.js';
import type { DiagnosisReport } from './remediation-ports.js';

/** Diagnoses per look before an older or undated observation parks the incident (each asks the exporter anew). */
export const FRESH_ATTEMPTS = 3;

export type FreshDiagnosis =
  | { readonly kind: 'fresh'; readonly report: DiagnosisReport }
  | { readonly kind: 'stale'; readonly report: DiagnosisReport; readonly detail: string }
  | { readonly kind: 'failed' };

/** A notification about the incident arrived at `at`: it acts only on observations sampled after it. */
export function noteNotified(inc: Incident, at: number): void {
  inc.notifiedAt = Math.max(inc.notifiedAt ?? 0, at);
}

/**
 * The time an observation must be newer than before the incident may act: the last notification of its alerts (the
 * alert was evaluated before the webhook arrived), and the end of its last step (a picture from before a step says
 * nothing about what the step did).
 */
export function freshSince(inc: Incident): number {
  const notified = inc.notifiedAt ?? Math.max(inc.openedAt, ...inc.alerts.map((a) => a.lastSeenAt));
  const steps = inc.steps.filter((s) => !s.dryRun).map((s) => s.finishedAt ?? s.startedAt);
  return Math.max(notified, ...steps);
}

/**
 * Diagnoses the target, asking again (up to FRESH_ATTEMPTS times) while the observation is older than `since` or
 * undated. 'stale' after the last attempt: the caller does not act on it (it waits and looks again later).
 */
export async function diagnoseFresh(
  ctx: EngineContext,
  target: OllamaTargetConfig,
  since: number,
): Promise<FreshDiagnosis> {
  let last: DiagnosisReport | null = null;
  for (let i = 0; i < FRESH_ATTEMPTS; i++) {
    const report = await diagnose(ctx, target);
    if (!report) return last ? stale(last, since) : { kind: 'failed' };
    if (report.observedAtMs !== null && report.observedAtMs >= since) return { kind: 'fresh', report };
    last = report;
  }
  return stale(last!, since);
}

function stale(report: DiagnosisReport, since: number): FreshDiagnosis {
  const at = report.observedAtMs;
  const detail =
    at === null
      ? `the observation of the target is undated (${report.source}): not acting on a picture of unknown age`
      : `the newest observation of the target is from ${new Date(at).toISOString()}, before ${new Date(since).toISOString()} (the last notification or step): not acting on an older picture`;
  return { kind: 'stale', report, detail };
}

/** ISO time of the observation, for the audit's decision lines (absent when undated). */
export function observedAtField(report: DiagnosisReport | undefined): { observedAt?: string } {
  return report && report.observedAtMs !== null ? { observedAt: new Date(report.observedAtMs).toISOString() } : {};
}

async function diagnose(ctx: EngineContext, target: OllamaTargetConfig): Promise<DiagnosisReport | null> {
  const s = clockSignal(
    ctx.clock,
    ctx.cfg.exporter_timeout_ms + ctx.cfg.exec_timeout_ms + 5_000,
    'diagnosis timed out',
    ctx.abortSteps,
  );
  try {
    return await ctx.ports.diagnose(target, s.signal);
  } catch (err) {
    ctx.log.warn({ target: target.name, err: (err as Error).message }, 'diagnosis failed');
    return null;
  } finally {
    s.dispose();
  }
}
