import { diagnoseLoaded, type DiagnoseContext } from './diagnose-loaded.js';
import { diagnoseProbes } from './diagnose-probes.js';
import { CONDITIONS, type Diagnosis, type Finding } from './finding.js';
import type { TargetObservation } from './target-observation.js';

export {
  CONDITIONS,
  PROBE_FAILURES_NEEDED,
  RUNNER_BUSY_LIMIT_MS,
  STOPPING_GRACE_SECONDS,
  type Condition,
  type Diagnosis,
  type Finding,
  type SuggestedAction,
} from './finding.js';
export type { DiagnoseContext } from './diagnose-loaded.js';

/**
 * Pure: one observation in, the conditions that hold out. Shared by the exporter and the remediator.
 *
 * Findings that compare two sources (runner_crashed: /api/ps against /proc; vram_mismatch: /api/ps against the GPU)
 * count only when the sources were sampled together (`ctx.sampledTogether`, the exporter's on-demand collection) or
 * the previous diagnosis of the target (`ctx.previous`) saw them too: the exporter samples its sources at different
 * moments, and a load or unload between two samples would otherwise flap. Until then they sit in `unconfirmed`.
 * Without a context nothing cross-source is confirmed.
 */
export function diagnoseTarget(o: TargetObservation, ctx: DiagnoseContext = {}): Diagnosis {
  const f: Finding[] = [];
  const gpuFaults = (o.gpus ?? []).filter((g) => g.lost || (g.eccUncorrectedVolatile ?? 0) > 0);
  for (const g of gpuFaults) {
    f.push({
      condition: 'gpu_fault',
      detail: g.lost
        ? `GPU ${g.uuid} is lost (fell off the bus): host action needed`
        : `GPU ${g.uuid} reports ${g.eccUncorrectedVolatile} uncorrected ECC errors`,
      action: 'escalate',
    });
  }
  if (
    o.gpuCollectorError &&
    /version_mismatch|driver_not_loaded|nvml_library_missing|gpu_lost/.test(o.gpuCollectorError)
  ) {
    f.push({
      condition: 'gpu_fault',
      detail: `nvidia-smi fails on the host (${o.gpuCollectorError}): driver or GPU problem`,
      action: 'escalate',
    });
  }
  if (o.apiUp === false)
    f.push({ condition: 'api_down', detail: 'the Ollama API does not answer HEAD /', action: 'restart' });
  if (o.containerGpuAccess === false) {
    f.push({
      condition: 'gpu_access_lost',
      detail:
        'nvidia-smi inside the container fails: the container lost its GPU (cgroup device rules rewritten, e.g. by systemctl daemon-reload); restart or recreate it',
      action: 'restart',
    });
  }

  const loaded = diagnoseLoaded(o, ctx);
  f.push(...loaded.findings);
  f.push(...diagnoseProbes(o, loaded));

  for (const c of o.configured) {
    if (c.present === false && !f.some((x) => x.condition === 'model_missing' && x.model === c.model)) {
      f.push({ condition: 'model_missing', model: c.model, detail: `${c.model} is not in /api/tags`, action: 'pull' });
    }
  }
  if (o.orphanRunners && o.orphanRunners.length > 0) {
    const bytes = o.orphanRunners.reduce((a, r) => a + r.memoryBytes, 0);
    f.push({
      condition: 'orphan_vram',
      detail: `${o.orphanRunners.length} orphaned runner process(es) hold ${bytes} bytes of VRAM (pids ${o.orphanRunners.map((r) => r.pid).join(', ')})`,
      action: 'kill_orphans',
    });
  }
  if (o.apiUp === null && o.psOk === null)
    f.push({ condition: 'unknown', detail: 'no Ollama data yet', action: 'wait' });

  const status = f.length === 0 ? 'healthy' : CONDITIONS.find((c) => f.some((x) => x.condition === c))!;
  return {
    target: o.target,
    status,
    findings: f,
    ...(loaded.unconfirmed.length > 0 ? { unconfirmed: loaded.unconfirmed } : {}),
  };
}
