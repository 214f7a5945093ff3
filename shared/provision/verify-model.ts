import type { ModelConfig } from '../config/types.js';
import { modelRequestFields } from '../ollama/model-request-fields.js';
import { modelNameKey } from '../ollama/normalize-model-name.js';
import type { RunningModel } from '../ollama/parse-ps.js';
import { assessOffload, type OffloadVerdict } from './assess-offload.js';
import type { ProvisionClient } from './ensure-model.js';

export interface VerifyModelOptions {
  /** Deadline for the load, and again for the one-token answer. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /**
   * Leave the model loaded afterwards. Default: its keep_warm. A model that was already resident before the check
   * is never unloaded (someone else is using it).
   */
  readonly keepLoaded?: boolean;
  readonly prompt?: string;
  readonly now?: () => number;
}

export type VerifyStage = 'load' | 'offload' | 'generate';

export interface VerifyModelResult {
  readonly model: string;
  readonly ok: boolean;
  /** The step that failed. */
  readonly stage?: VerifyStage;
  readonly problem?: string;
  readonly offload?: OffloadVerdict;
  /** Wall clock of the load request (Ollama reports no duration for a plain load). */
  readonly loadMs?: number;
  readonly generateMs?: number;
  readonly durationMs: number;
  /**
   * Set (with ok true) when the model could not be checked this way: an embedding-only model cannot be loaded through
   * /api/generate (Ollama answers 400 "does not support generate"), so it is left alone rather than failed.
   */
  readonly skipped?: string;
  readonly wasResident: boolean;
  readonly unloaded: boolean;
  /** The unload after the check failed: the model may still hold VRAM until its keep_alive runs out. */
  readonly unloadProblem?: string;
}

/**
 * Proves a model is usable on the GPU: loads it with its configured options and keep_alive (the same fields every
 * component sends, so the check does not itself cause a reload later), reads /api/ps to check at least
 * min_vram_ratio of it sits in VRAM, then asks for one token. Afterwards a model that is not keep_warm, and that this
 * check loaded, is unloaded so that verifying the next one does not push it out of VRAM (or the other way round).
 * A failed check is a result, not an exception; only a shutdown throws.
 */
export async function verifyModel(
  client: ProvisionClient,
  model: ModelConfig,
  opts: VerifyModelOptions,
): Promise<VerifyModelResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const fields = modelRequestFields(model);
  const signal = opts.signal ? { signal: opts.signal } : {};
  const capabilities = await client
    .show(model.name, signal)
    .then((info): string[] | null =>
      info === null
        ? null
        : Array.isArray(info.capabilities)
          ? info.capabilities.filter((c): c is string => typeof c === 'string')
          : [],
    )
    .catch((err: unknown): string[] => {
      if (opts.signal?.aborted) throw err;
      return []; // unknown: let the load itself report what is wrong
    });
  if (capabilities === null) {
    return {
      model: model.name,
      ok: false,
      stage: 'load',
      problem: 'not present on the server (/api/show answered 404)',
      durationMs: now() - started,
      wasResident: false,
      unloaded: false,
    };
  }
  if (capabilities.length > 0 && !capabilities.includes('completion')) {
    const skipped = `not verified: its capabilities (${capabilities.join(', ')}) lack completion, so it cannot be loaded through /api/generate`;
    return { model: model.name, ok: true, skipped, durationMs: now() - started, wasResident: false, unloaded: false };
  }
  const wasResident = await client
    .ps(signal)
    .then((running) => findRunningModel(running, model.name) !== undefined)
    .catch(() => false);

  let outcome: Omit<VerifyModelResult, 'durationMs' | 'wasResident' | 'unloaded' | 'unloadProblem' | 'model'>;
  try {
    outcome = await check();
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    outcome = { ok: false, stage: 'load', problem: (err as Error).message };
  }

  let unloaded = false;
  let unloadProblem: string | undefined;
  if (!(opts.keepLoaded ?? model.keep_warm) && !wasResident && !opts.signal?.aborted) {
    try {
      await client.unload(model.name, signal);
      unloaded = true;
    } catch (err) {
      unloadProblem = (err as Error).message;
    }
  }
  return {
    model: model.name,
    ...outcome,
    durationMs: now() - started,
    wasResident,
    unloaded,
    ...(unloadProblem !== undefined ? { unloadProblem } : {}),
  };

  async function check(): Promise<
    Omit<VerifyModelResult, 'durationMs' | 'wasResident' | 'unloaded' | 'unloadProblem' | 'model'>
  > {
    let loadMs: number;
    try {
      ({ loadMs } = await client.load(
        model.name,
        { keep_alive: fields.keep_alive, options: fields.options },
        { ...signal, timeoutMs: opts.timeoutMs },
      ));
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      return { ok: false, stage: 'load', problem: `loading failed: ${(err as Error).message}` };
    }
    let offload: OffloadVerdict;
    try {
      offload = assessOffload(findRunningModel(await client.ps(signal), model.name), model.min_vram_ratio);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      return { ok: false, stage: 'offload', problem: `reading /api/ps failed: ${(err as Error).message}`, loadMs };
    }
    if (!offload.ok) return { ok: false, stage: 'offload', problem: offload.problem!, offload, loadMs };
    try {
      // num_predict is not a runner option, so it does not make Ollama reload the model (sched.go needsReload).
      const answer = await client.generate(
        { ...fields, prompt: opts.prompt ?? 'Say OK.', options: { ...fields.options, num_predict: 1 } },
        { ...signal, loadTimeoutMs: opts.timeoutMs, firstTokenTimeoutMs: opts.timeoutMs },
      );
      return { ok: true, offload, loadMs, generateMs: answer.totalMs };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      return {
        ok: false,
        stage: 'generate',
        problem: `one-token answer failed: ${(err as Error).message}`,
        offload,
        loadMs,
      };
    }
  }
}

/** The /api/ps entry of a model, whichever of its spellings /api/ps uses (name or model). */
export function findRunningModel(running: readonly RunningModel[], name: string): RunningModel | undefined {
  const wanted = modelNameKey(name);
  return running.find((entry) => [entry.name, entry.model].some((n) => modelNameKey(n) === wanted));
}
