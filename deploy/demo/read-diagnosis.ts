import type { Diagnosis } from '../../shared/diagnosis/diagnose-target.js';
import { fetchJson } from './fetch-json.js';

/** The exporter's current diagnosis of one target (from /api/state); null when the exporter does not know it yet. */
export async function readDiagnosis(exporterUrl: string, target: string): Promise<Diagnosis | null> {
  const state = (await fetchJson(`${exporterUrl}/api/state`)) as { targets?: Record<string, { diagnosis?: Diagnosis }> };
  return state.targets?.[target]?.diagnosis ?? null;
}
