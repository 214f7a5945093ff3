import {
  CONDITIONS,
  diagnoseTarget,
  type DiagnoseContext,
  type Diagnosis,
} from '../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../shared/diagnosis/target-observation.js';
import type { CollectorStatus } from './collector-scheduler.js';
import type { MetricSink } from './collector.js';

/** The document served at /api/state; the remediator reads `targets[name]` for its checks. */
export interface ExporterState {
  readonly version: string;
  readonly generated_at: string;
  readonly ready: boolean;
  readonly collectors: readonly Omit<CollectorStatus, 'snapshot'>[];
  readonly snapshots: Readonly<Record<string, unknown>>;
  readonly targets: Readonly<
    Record<string, { readonly observation: TargetObservation; readonly diagnosis: Diagnosis }>
  >;
}

/** Diagnoses one observation; the exporter's keeps the previous diagnosis per target (see createDiagnosisMemory). */
export type Diagnose = (o: TargetObservation) => Diagnosis;

/**
 * The exporter's diagnoser: cross-source findings (vram_mismatch, runner_crashed) count when the previous sample of
 * the target showed them too. "Sample" = the observation's observedAtMs: the same observation diagnosed again (for
 * /metrics and /api/state, or after a probe update) reuses the same previous diagnosis, so one sample never confirms
 * itself; a newer one takes the last diagnosis as its previous. Sources sampled together pass `sampledTogether`.
 */
export function createDiagnosisMemory(extra: Omit<DiagnoseContext, 'previous'> = {}): Diagnose {
  const memory = new Map<string, { atMs: number | null; previous: Diagnosis | null; last: Diagnosis }>();
  return (o) => {
    const m = memory.get(o.target);
    const previous = !m ? null : m.atMs === o.observedAtMs ? m.previous : m.last;
    const last = diagnoseTarget(o, { ...extra, previous });
    // Without a sample time, samples cannot be told apart: nothing is confirmed across calls.
    if (o.observedAtMs === null) memory.delete(o.target);
    else memory.set(o.target, { atMs: o.observedAtMs, previous, last });
    return last;
  };
}

export function buildExporterState(
  version: string,
  ready: boolean,
  statuses: readonly CollectorStatus[],
  observations: readonly TargetObservation[],
  nowMs: number,
  diagnose: Diagnose = (o) => diagnoseTarget(o),
): ExporterState {
  return {
    version,
    generated_at: new Date(nowMs).toISOString(),
    ready,
    collectors: statuses.map(({ snapshot: _s, ...rest }) => rest),
    snapshots: Object.fromEntries(statuses.filter((s) => s.ok).map((s) => [s.name, toJsonable(s.snapshot)])),
    targets: Object.fromEntries(observations.map((o) => [o.target, { observation: o, diagnosis: diagnose(o) }])),
  };
}

/** Maps and Sets become plain JSON so snapshots can be served as they are. */
function toJsonable(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJsonable(x)]));
  if (v instanceof Set) return [...v].map(toJsonable);
  if (Array.isArray(v)) return v.map(toJsonable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonable(x)]));
  return v;
}

/** One series per target and condition (bounded set), 1 where the condition holds: alert rules key on it. */
export function renderDiagnosis(
  observations: readonly TargetObservation[],
  sink: MetricSink,
  diagnose: Diagnose = (o) => diagnoseTarget(o),
): void {
  for (const o of observations) {
    const target = o.target;
    const diagnosis = diagnose(o);
    const held = new Set(diagnosis.findings.map((f) => f.condition));
    for (const condition of CONDITIONS) {
      const value = condition === 'healthy' ? (diagnosis.status === 'healthy' ? 1 : 0) : held.has(condition) ? 1 : 0;
      sink.gauge(
        'sentinel_ollama_condition',
        'Diagnosis of the target from the latest snapshots: 1 where the condition holds (see /api/state for details).',
        { target, condition },
        value,
      );
    }
  }
}
