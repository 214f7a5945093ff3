import type { ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { DockerApi } from '../../shared/docker/docker-api.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import { readProcessIdentity, type ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { ActionDeps } from '../actions/action.js';
import { boundedSignal } from '../actions/wait-until.js';
import { errorText } from '../actions/call-log.js';
import { hasHostPidView } from '../actions/has-host-pid-view.js';
import { waitForOllama } from '../../shared/provision/wait-for-ollama.js';
import type { ProvisionClient } from '../../shared/provision/ensure-model.js';
import { attributeGpuMemory, type GpuOwner } from './attribute-gpu-memory.js';
import { judgeRecovery, type GpuEvidence, type ProbeEvidence, type PsEvidence } from './judge-recovery.js';

export type VerifyDeps = Pick<ActionDeps, 'docker' | 'ollama' | 'queryComputeApps' | 'procRoot' | 'gpu' | 'now'> & {
  readonly timeouts: Pick<ActionDeps['timeouts'], 'dockerMs'>;
};

export interface VerifyOptions {
  readonly signal: AbortSignal;
  /** Until response headers (the model may have to load after a restart). */
  readonly loadTimeoutMs: number;
  /** From headers to the first token. */
  readonly firstTokenTimeoutMs: number;
  /** Default "Hi". */
  readonly prompt?: string;
}

export interface RecoveryVerdict {
  readonly healthy: boolean;
  readonly detail: string;
  readonly evidence: {
    readonly vramSource: 'gpu_processes' | 'api_ps' | 'none';
    readonly probe: ProbeEvidence;
    readonly ps: PsEvidence;
    readonly gpu: GpuEvidence;
  };
}

/**
 * After a healing step, checks the target directly instead of waiting for the alert to clear: a one-token generate
 * with the model's own fields (so it neither reloads nor un-pins it) under a deadline, then /api/ps, then the GPU
 * memory the target's processes really hold (nvidia-smi host PIDs -> /proc cgroup -> the target's containers).
 */
export async function verifyRecovery(
  target: OllamaTargetConfig,
  model: ModelConfig,
  deps: VerifyDeps,
  opts: VerifyOptions,
): Promise<RecoveryVerdict> {
  const client = deps.ollama(target);
  const fields = modelRequestFields(model);

  // A restarted container's Ollama needs a moment to listen again: connection refused right after a restart means
  // "not up yet", not "still broken". Wait for the API (within the load deadline) before judging.
  const up = await waitForOllama(client as ProvisionClient, {
    timeoutMs: opts.loadTimeoutMs,
    backoff: { initialMs: 250, maxMs: 5000 },
    signal: opts.signal,
  });
  let probe: ProbeEvidence;
  if (!up.ok) {
    probe = {
      ok: false,
      error: `Ollama API did not answer within ${opts.loadTimeoutMs} ms (${up.attempts} attempts): ${up.error.message}`,
    };
  } else
    try {
      const r = await client.generate(
        // num_predict is a sampling option, not a runner option: it does not make Ollama reload the model.
        {
          model: fields.model,
          prompt: opts.prompt ?? 'Hi',
          keep_alive: fields.keep_alive,
          options: { ...fields.options, num_predict: 1 },
        },
        { signal: opts.signal, loadTimeoutMs: opts.loadTimeoutMs, firstTokenTimeoutMs: opts.firstTokenTimeoutMs },
      );
      probe = {
        ok: true,
        totalMs: r.totalMs,
        ...(typeof r.final.load_duration === 'number' ? { loadDurationNs: r.final.load_duration } : {}),
      };
    } catch (err) {
      probe = { ok: false, error: errorText(err) };
    }

  let ps: PsEvidence = { listed: false };
  if (probe.ok) {
    try {
      const entry = (await client.ps({ signal: opts.signal })).find(
        (m) => m.name === fields.model || m.model === fields.model,
      );
      if (entry) ps = { listed: true, size: entry.size, sizeVram: entry.size_vram };
    } catch (err) {
      ps = { listed: false, error: errorText(err) };
    }
  }

  const gpu: GpuEvidence =
    probe.ok && ps.listed
      ? await gpuEvidence(target, deps, opts.signal)
      : { available: false, reason: 'not needed: probe or /api/ps already failed' };
  const judged = judgeRecovery(fields.model, model.min_vram_ratio, probe, ps, gpu);
  return {
    healthy: judged.healthy,
    detail: judged.detail,
    evidence: { vramSource: judged.vramSource, probe, ps, gpu },
  };
}

async function gpuEvidence(target: OllamaTargetConfig, deps: VerifyDeps, signal: AbortSignal): Promise<GpuEvidence> {
  const view = await hasHostPidView(deps.procRoot);
  if (!view.ok) return { available: false, reason: view.reason };
  let owner: GpuOwner = { kind: 'host' };
  try {
    if (target.container) {
      const containers = await resolveTargetContainers(
        deps.docker as unknown as DockerApi,
        target.container,
        boundedSignal(signal, deps.timeouts.dockerMs),
      );
      if (containers.length === 0) return { available: false, reason: 'no running container of the target' };
      owner = { kind: 'containers', ids: new Set(containers.map((c) => c.id)) };
    }
    const apps = await deps.queryComputeApps(boundedSignal(signal, deps.gpu.timeout_ms + 5_000));
    const identities = new Map<number, ProcessIdentity | null>();
    for (const app of apps) {
      if (!identities.has(app.pid)) identities.set(app.pid, await readProcessIdentity(deps.procRoot, app.pid));
    }
    return { available: true, ...attributeGpuMemory(apps, identities, owner) };
  } catch (err) {
    return { available: false, reason: errorText(err) };
  }
}
