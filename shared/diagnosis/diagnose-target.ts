import type { TargetObservation } from './target-observation.js';

/**
 * Bounded set of conditions (they become a metric label and the remediator's routing key).
 * Order = precedence when several hold: host-level faults first, because acting on the container cannot fix them.
 */
export const CONDITIONS = [
  'gpu_fault',
  'api_down',
  'gpu_access_lost',
  'load_stalled',
  'probe_hung',
  'runner_crashed',
  'model_on_cpu',
  'vram_mismatch',
  'model_missing',
  'orphan_vram',
  'model_stopping',
  'partial_offload',
  'out_of_memory',
  'runner_busy_too_long',
  'server_busy',
  'probe_failing',
  'unknown',
  'model_loading',
  'runner_busy',
  'healthy',
] as const;
export type Condition = (typeof CONDITIONS)[number];

/** What to do about a condition: the remediator starts its ladder here; `escalate` means humans only. */
export type SuggestedAction = 'restart' | 'reload' | 'kill_orphans' | 'pull' | 'escalate' | 'wait' | 'none';

export interface Finding {
  readonly condition: Condition;
  readonly model?: string;
  readonly detail: string;
  readonly action: SuggestedAction;
}

export interface Diagnosis {
  readonly target: string;
  /** The most urgent condition (CONDITIONS order). */
  readonly status: Condition;
  readonly findings: readonly Finding[];
}

/** Probe failures in a row before a hung or failing runner is declared (one slow answer is not a hang). */
export const PROBE_FAILURES_NEEDED = 2;
/** GPU memory held by the target's processes may be below the sum of /api/ps size_vram by this much before it is a lie. */
const VRAM_EVIDENCE_FLOOR = 0.5;

/** Pure: one observation in, the conditions that hold out. Shared by the exporter and the remediator. */
export function diagnoseTarget(o: TargetObservation): Diagnosis {
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

  for (const p of o.probes) {
    // A pending probe has no outcome yet, and the one before it is no longer current: it proves nothing either way.
    if (p.result === 'ok' || p.result === 'pending') continue;
    if (p.result === 'not_found') {
      f.push({
        condition: 'model_missing',
        model: p.model,
        detail: `the probe got 404 for ${p.model}`,
        action: 'pull',
      });
    } else if (p.result === 'busy') {
      f.push({
        condition: 'server_busy',
        model: p.model,
        detail: 'Ollama answers 503 (queue full): overloaded, not broken',
        action: 'escalate',
      });
    } else if (p.consecutiveFailures >= PROBE_FAILURES_NEEDED) {
      if (p.result === 'timeout')
        f.push({
          condition: 'probe_hung',
          model: p.model,
          detail: `${p.consecutiveFailures} probes in a row got no token in time while the API answers: hung runner`,
          action: 'reload',
        });
      else if (p.result === 'error' && /out of memory|cudaMalloc|requires more system memory/i.test(p.message ?? ''))
        f.push({
          condition: 'out_of_memory',
          model: p.model,
          detail: p.message ?? 'out of memory',
          action: 'escalate',
        });
      else if (p.result === 'loading')
        f.push({
          condition: 'probe_failing',
          model: p.model,
          detail: `${p.consecutiveFailures} probes in a row could not load ${p.model} in time`,
          action: 'reload',
        });
      else
        f.push({
          condition: 'probe_failing',
          model: p.model,
          detail: `${p.consecutiveFailures} probes in a row failed: ${p.message ?? p.result}`,
          action: 'reload',
        });
    }
  }

  for (const c of o.configured) {
    if (c.present === false && !f.some((x) => x.condition === 'model_missing' && x.model === c.model)) {
      f.push({ condition: 'model_missing', model: c.model, detail: `${c.model} is not in /api/tags`, action: 'pull' });
    }
  }

  let claimedVram = 0;
  for (const m of o.loaded) {
    const cfg = o.configured.find((c) => c.model === m.model);
    claimedVram += m.vramBytes;
    if (m.stopping)
      f.push({
        condition: 'model_stopping',
        model: m.model,
        detail: `${m.model} is stuck "Stopping" (expires_at in the past)`,
        action: 'reload',
      });
    if (m.sizeBytes > 0 && m.vramBytes === 0) {
      f.push({
        condition: 'model_on_cpu',
        model: m.model,
        detail: `${m.model} is loaded with 0 bytes in VRAM: running on the CPU`,
        action: 'restart',
      });
    } else if (m.sizeBytes > 0 && m.vramBytes / m.sizeBytes < (cfg?.minVramRatio ?? 1)) {
      f.push({
        condition: 'partial_offload',
        model: m.model,
        detail: `only ${Math.round((100 * m.vramBytes) / m.sizeBytes)} % of ${m.model} is in VRAM (min ${Math.round(100 * (cfg?.minVramRatio ?? 1))} %): too large a context or other VRAM users`,
        action: 'escalate',
      });
    }
  }
  if (o.gpuMemoryBytes !== null && claimedVram > 0 && o.gpuMemoryBytes < claimedVram * VRAM_EVIDENCE_FLOOR) {
    f.push({
      condition: 'vram_mismatch',
      detail: `/api/ps claims ${claimedVram} bytes in VRAM but the target's processes hold ${o.gpuMemoryBytes} on the GPU: silent CPU fallback`,
      action: 'restart',
    });
  }
  if (o.orphanRunners && o.orphanRunners.length > 0) {
    const bytes = o.orphanRunners.reduce((a, r) => a + r.memoryBytes, 0);
    f.push({
      condition: 'orphan_vram',
      detail: `${o.orphanRunners.length} orphaned runner process(es) hold ${bytes} bytes of VRAM (pids ${o.orphanRunners.map((r) => r.pid).join(', ')})`,
      action: 'kill_orphans',
    });
  }
  for (const p of o.probes) {
    if (p.result === 'pending') {
      f.push({
        condition: 'unknown',
        model: p.model,
        detail: `the probe of ${p.model} has not answered within its first-token deadline and is still waiting: busy, loading or hung is not known yet`,
        action: 'wait',
      });
    } else if (
      p.result !== 'ok' &&
      p.result !== 'not_found' &&
      p.result !== 'busy' &&
      p.consecutiveFailures < PROBE_FAILURES_NEEDED
    ) {
      f.push({
        condition: 'unknown',
        model: p.model,
        detail: `one probe failed (${p.result}); waiting for another before calling it`,
        action: 'wait',
      });
    }
  }
  if (o.apiUp === null && o.psOk === null)
    f.push({ condition: 'unknown', detail: 'no Ollama data yet', action: 'wait' });

  const status = f.length === 0 ? 'healthy' : CONDITIONS.find((c) => f.some((x) => x.condition === c))!;
  return { target: o.target, status, findings: f };
}
