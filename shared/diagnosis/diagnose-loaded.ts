import { modelNameKey } from '../ollama/normalize-model-name.js';
import { psBlocksDuringLoad } from '../ollama/ollama-version.js';
import {
  RUNNER_BUSY_LIMIT_MS,
  STOPPING_GRACE_SECONDS,
  VRAM_EVIDENCE_FLOOR,
  type Condition,
  type Diagnosis,
  type Finding,
} from './finding.js';
import { START_TIME_TOLERANCE_MS } from '../proc/read-process-counters.js';
import type { LoadedModelObservation, RunnerObservation, TargetObservation } from './target-observation.js';

/** How a diagnosis may use findings that compare sources sampled at different moments (see diagnoseTarget). */
export interface DiagnoseContext {
  /** The previous diagnosis of this target: a cross-source finding it also had is confirmed. */
  readonly previous?: Diagnosis | null;
  /** Every source of the observation was sampled within ~1 s (the on-demand collection): no confirmation needed. */
  readonly sampledTogether?: boolean;
}

export interface LoadedFindings {
  readonly findings: Finding[];
  readonly unconfirmed: Finding[];
  /** A cold load is in progress on the target without a known model (0.32.4+: /api/ps blocks while loading). */
  readonly targetLoading: boolean;
  /** Models (name keys) seen loading. */
  readonly loadingModels: ReadonlySet<string>;
}

type Activity = 'progressing' | 'flat' | 'gone' | 'unknown';

/** Whether `previous` held `condition` (for `model`, when given), confirmed or not. */
export function heldBefore(ctx: DiagnoseContext, condition: Condition, model?: string): boolean {
  const p = ctx.previous;
  if (!p) return false;
  return [...p.findings, ...(p.unconfirmed ?? [])].some(
    (f) => f.condition === condition && (model === undefined || (f.model !== undefined && sameModel(f.model, model))),
  );
}

export function sameModel(a: string, b: string): boolean {
  return modelNameKey(a) === modelNameKey(b);
}

const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** The runner's own VRAM (per-PID GPU memory) reaches what /api/ps lists for its model. */
const holdsItsVram = (m: LoadedModelObservation, r: RunnerObservation): boolean =>
  r.vramBytes !== null && r.vramBytes >= m.vramBytes * VRAM_EVIDENCE_FLOOR;

/**
 * What /api/ps's list says once joined with the runner processes: loads in progress or stalled, crashed runners,
 * models that fail to unload, CPU placement, partial offload, and /api/ps claiming VRAM the GPU does not show.
 */
export function diagnoseLoaded(o: TargetObservation, ctx: DiagnoseContext): LoadedFindings {
  const findings: Finding[] = [];
  const unconfirmed: Finding[] = [];
  const crossSource = (f: Finding): void => {
    if (ctx.sampledTogether === true || heldBefore(ctx, f.condition, f.model)) findings.push(f);
    else unconfirmed.push(f);
  };
  const now = o.observedAtMs;
  const limitMs = o.loadStallLimitSeconds * 1000;
  const runners = o.runners;
  const loadingModels = new Set<string>();

  // 0.32.4+: /api/ps blocks for the whole of any cold load while HEAD answers. That is "loading", never an API fault.
  const psBlocked = psBlocksDuringLoad(o.version) && o.psOk === false && o.psFailure === 'timeout' && o.apiUp === true;
  let targetLoading = false;
  if (psBlocked) {
    const all = runners ?? [];
    if (runners !== null && all.length > 0 && all.every((r) => r.progress === 'flat' && r.flatForMs >= limitMs)) {
      findings.push({
        condition: 'load_stalled',
        detail: `/api/ps has not answered (Ollama ${o.version} blocks it while a model loads) and none of the ${all.length} runner process(es) made progress (CPU time, RSS, reads, VRAM) for ${secs(Math.min(...all.map((r) => r.flatForMs)))} (load-stall limit ${o.loadStallLimitSeconds} s)`,
        action: 'restart',
      });
    } else {
      targetLoading = true;
      const moving = all.filter((r) => r.progress === 'progressing');
      const evidence =
        runners === null
          ? 'runner processes not visible'
          : moving.length > 0
            ? `runner pid ${moving.map((r) => r.pid).join(', ')} progressing`
            : all.length === 0
              ? 'no runner process seen yet'
              : `runners flat for ${secs(Math.max(...all.map((r) => r.flatForMs)))} so far (limit ${o.loadStallLimitSeconds} s)`;
      findings.push({
        condition: 'model_loading',
        detail: `/api/ps does not answer while HEAD does: Ollama ${o.version} blocks /api/ps during a cold load (${evidence})`,
        action: 'wait',
      });
    }
  }

  const claimedBy = (pid: number, except: LoadedModelObservation): boolean =>
    o.loaded.some((x) => x !== except && x.runnerPid === pid);
  const runnerOf = (m: LoadedModelObservation): RunnerObservation | null =>
    m.runnerPid === null ? null : (runners?.find((r) => r.pid === m.runnerPid) ?? null);
  const activity = (m: LoadedModelObservation): Activity => {
    if (runners === null) return 'unknown';
    if (m.runnerPid !== null) {
      const r = runnerOf(m);
      return r === null ? 'gone' : r.progress;
    }
    // Blob not matched: the runners no other listed model claims are the candidates.
    const free = runners.filter((r) => !claimedBy(r.pid, m));
    if (free.length === 0) return 'gone';
    if (free.some((r) => r.progress === 'progressing')) return 'progressing';
    return free.every((r) => r.progress === 'flat') ? 'flat' : 'unknown';
  };

  let claimedVram = 0;
  /** VRAM of listed models whose own runner was seen holding it (per-PID GPU memory in the runners sample). */
  let evidencedVram = 0;
  for (const m of o.loaded) {
    const cfg = o.configured.find((c) => sameModel(c.model, m.model));
    const act = activity(m);
    const r = runnerOf(m);

    // A listed model with no runner process: Ollama keeps a dead runner in /api/ps (old size_vram) until it expires
    // or the next request finds it unresponsive (sched.go needsReload). /proc against /api/ps: cross-source.
    if (act === 'gone') {
      crossSource({
        condition: 'runner_crashed',
        model: m.model,
        detail:
          m.runnerPid !== null
            ? `${m.model} is listed by /api/ps but its runner (pid ${m.runnerPid}) is gone: the runner crashed`
            : `${m.model} is listed by /api/ps but no runner process serves it (${runners!.length} runner(s), all serving other models): the runner crashed`,
        action: 'reload',
      });
      continue;
    }

    // 0.12 to 0.32.3 list a loading model with its planned size_vram while its runner is still filling the GPU.
    if (!psBlocksDuringLoad(o.version) && r !== null && r.vramBytes !== null) {
      const under = m.vramBytes > 0 && !holdsItsVram(m, r);
      // A load maps, reads and allocates; a loaded runner at work only burns CPU (an /api/ps lie with the probe
      // generating must not pass for a load). A runner seen for the first time gets one sample's benefit of the doubt.
      const growing = r.progress === 'progressing' && r.memoryGrowing !== false;
      // A model whose probe got a token from this runner has finished loading, whatever its counters do since.
      const okAt = o.probes.find((p) => sameModel(p.model, m.model))?.lastSuccessMs ?? null;
      // Clearly after the runner's start: its start time is re-derived from /proc/uptime on every run and can read
      // seconds late or early on a loaded host; an answer from the runner it replaced must not pass for this one's.
      const served = okAt !== null && r.startedAtMs !== null && okAt > r.startedAtMs + START_TIME_TOLERANCE_MS;
      // A stalled load stays one: without load_stalled here its next diagnosis would read the flat runner holding less
      // than /api/ps plans as a silent CPU fallback (and a node would be restarted for what is a stall).
      const wasLoading =
        !served &&
        (heldBefore(ctx, 'model_loading', m.model) ||
          heldBefore(ctx, 'load_stalled', m.model) ||
          r.progress === 'unknown');
      if (under && !served && (growing || (r.progress === 'progressing' && wasLoading))) {
        loadingModels.add(modelNameKey(m.model));
        findings.push({
          condition: 'model_loading',
          model: m.model,
          detail: `${m.model} is loading${r.startedAtMs !== null && now !== null ? ` for ${secs(now - r.startedAtMs)}` : ''}: its runner (pid ${r.pid}) holds ${r.vramBytes} of ${m.vramBytes} bytes planned and is progressing`,
          action: 'wait',
        });
        continue;
      }
      // A load that stalled before this exporter ever saw it move: Ollama itself says it has not finished (no expiry
      // set yet), and nothing has answered from this runner. Without it, a runner flat from its first sample would be
      // read as a finished load holding too little VRAM: a CPU-fallback restart for what is a stall.
      const stalledUnseen = !served && m.expiryUnset === true;
      if (under && r.progress !== 'progressing' && (wasLoading || stalledUnseen)) {
        if (r.progress === 'flat' && r.flatForMs >= limitMs) {
          findings.push({
            condition: 'load_stalled',
            model: m.model,
            detail: `the load of ${m.model} made no progress (runner pid ${r.pid}: CPU time, RSS, reads and VRAM flat) for ${secs(r.flatForMs)}, at ${r.vramBytes} of ${m.vramBytes} bytes (load-stall limit ${o.loadStallLimitSeconds} s)`,
            action: 'restart',
          });
        } else {
          loadingModels.add(modelNameKey(m.model));
          findings.push({
            condition: 'model_loading',
            model: m.model,
            detail: `${m.model} is loading: runner pid ${r.pid} holds ${r.vramBytes} of ${m.vramBytes} bytes, no progress for ${secs(r.flatForMs)} (stalled at ${o.loadStallLimitSeconds} s)`,
            action: 'wait',
          });
        }
        continue;
      }
    }

    // expires_at is not refreshed while requests run (sched.go useLoadedRunner): past expiry + busy is normal.
    const overdue = m.expiresInSeconds === null ? 0 : -m.expiresInSeconds;
    if (m.stopping && overdue >= STOPPING_GRACE_SECONDS) {
      if (act === 'flat') {
        findings.push({
          condition: 'model_stopping',
          model: m.model,
          detail: `${m.model} is "Stopping" for ${Math.round(overdue)} s (past expires_at) and its runner is idle${r ? ` for ${secs(r.flatForMs)}` : ''}: the unload did not happen`,
          action: 'reload',
        });
      } else if (act === 'unknown' && runners === null && overdue * 1000 >= RUNNER_BUSY_LIMIT_MS) {
        findings.push({
          condition: 'model_stopping',
          model: m.model,
          detail: `${m.model} is "Stopping" for ${Math.round(overdue)} s (past expires_at); its runner's activity is not visible, so it was given ${secs(RUNNER_BUSY_LIMIT_MS)} to finish in-flight requests`,
          action: 'reload',
        });
      }
    }

    // Configured for the CPU (num_gpu 0 or min_vram_ratio 0): nothing in VRAM is the plan, not a fallback.
    if (cfg?.cpuByDesign) continue;
    // A model whose runner was seen holding its VRAM is no CPU fallback, whatever a sample of the target's total
    // taken at another moment says (the runner's reload between two collections made them disagree).
    if (r !== null && m.vramBytes > 0 && holdsItsVram(m, r)) evidencedVram += r.vramBytes!;
    else claimedVram += m.vramBytes;
    if (m.sizeBytes > 0 && m.vramBytes === 0) {
      findings.push({
        condition: 'model_on_cpu',
        model: m.model,
        detail: `${m.model} is loaded with 0 bytes in VRAM (/api/ps size_vram): running on the CPU`,
        action: 'restart',
      });
    } else if (m.sizeBytes > 0 && m.vramBytes / m.sizeBytes < (cfg?.minVramRatio ?? 1)) {
      findings.push({
        condition: 'partial_offload',
        model: m.model,
        detail: `only ${Math.round((100 * m.vramBytes) / m.sizeBytes)} % of ${m.model} is in VRAM (min ${Math.round(100 * (cfg?.minVramRatio ?? 1))} %): too large a context or other VRAM users`,
        action: 'escalate',
      });
    }
  }

  // GPU memory against /api/ps: two sources sampled apart; never while something loads (its VRAM is still growing).
  if (
    !targetLoading &&
    loadingModels.size === 0 &&
    o.gpuMemoryBytes !== null &&
    claimedVram > 0 &&
    Math.max(0, o.gpuMemoryBytes - evidencedVram) < claimedVram * VRAM_EVIDENCE_FLOOR
  ) {
    crossSource({
      condition: 'vram_mismatch',
      detail: `/api/ps claims ${claimedVram} bytes in VRAM${evidencedVram > 0 ? ` beyond the ${evidencedVram} its runners were seen holding` : ''} but the target's processes hold ${o.gpuMemoryBytes} on the GPU: silent CPU fallback`,
      action: 'restart',
    });
  }
  return { findings, unconfirmed, targetLoading, loadingModels };
}
