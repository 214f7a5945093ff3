import { isOutOfMemoryMessage } from '../../shared/diagnosis/out-of-memory.js';
import { modelNameKey } from '../../shared/ollama/normalize-model-name.js';

/**
 * When the probe must not send a keep_warm model a request that would load it. The probe is what keeps keep_warm
 * models loaded; these are the two cases where loading one again would do harm instead:
 * - its last load ran out of memory: a reload runs into the same wall, and on 0.30+ each such load first evicts every
 *   other model, pinned ones included (server/sched.go load: reduceAutoNumCtxForLoadOOM, then evictAllAndWait);
 * - its load evicted another keep_warm model (or it was evicted by one): the two do not fit on the target together,
 *   and reloading the evicted one would evict the other, and so on every probe interval.
 * A held model is still probed whenever it is resident (someone else loaded it): then it fits, and the hold ends.
 */
/** The model names (normalised) /api/ps listed: a set, or the probe's map of them to their expiry. */
export type Listing = Pick<ReadonlySet<string>, 'has'>;

export interface HoldState {
  /** Until when the probe does not load this model after an out-of-memory (ms); null: no hold. */
  oomHeldUntilMs: number | null;
  /**
   * The out-of-memory hit the model while /api/ps listed it (at run time), and it has not been seen unlisted since: a
   * listing then is the same runner (0.12 keeps a dead one listed), not proof that it fits.
   */
  oomWhileListed: boolean;
  /** The keep_warm model whose load by the probe evicted this one, and when; null: none. */
  evictedBy: { readonly model: string; readonly atMs: number } | null;
}

export type HoldVerdict =
  | { readonly hold: false }
  | { readonly hold: true; readonly why: 'out_of_memory' | 'evicted'; readonly untilMs: number | null };

/**
 * Whether to hold the model's probe this round. `resident`: the model names (normalised) /api/ps listed at the start
 * of the round; null when it did not answer (nothing is known: no hold ends, none starts to matter). Ends holds that
 * no longer apply (mutates `s`).
 */
export function judgeHold(s: HoldState, model: string, resident: Listing | null, nowMs: number): HoldVerdict {
  const listed = resident?.has(modelNameKey(model)) ?? null;
  if (listed === false) s.oomWhileListed = false;
  if (listed === true && !(s.oomWhileListed && s.oomHeldUntilMs !== null && nowMs < s.oomHeldUntilMs)) {
    s.oomHeldUntilMs = null;
    s.oomWhileListed = false;
    s.evictedBy = null;
    return { hold: false };
  }
  if (s.oomHeldUntilMs !== null) {
    if (nowMs < s.oomHeldUntilMs) return { hold: true, why: 'out_of_memory', untilMs: s.oomHeldUntilMs };
    s.oomHeldUntilMs = null; // one more try once the hold is over: the GPU may have been freed meanwhile
  }
  if (s.evictedBy !== null) {
    // The evictor gone (unloaded, evicted in turn): this one may be loaded again without evicting it.
    if (resident === null || resident.has(modelNameKey(s.evictedBy.model)))
      return { hold: true, why: 'evicted', untilMs: null };
    s.evictedBy = null;
  }
  return { hold: false };
}

/** After a finished probe: an out-of-memory error starts the hold (`wasListed`: /api/ps listed the model before it). */
export function holdAfterProbe(
  s: HoldState,
  result: string,
  message: string | undefined,
  nowMs: number,
  holdMs: number,
  wasListed: boolean | null = null,
): void {
  if (result !== 'error' || !isOutOfMemoryMessage(message)) return;
  s.oomHeldUntilMs = nowMs + holdMs;
  s.oomWhileListed = wasListed === true;
}

/**
 * The other keep_warm models (names as configured) that /api/ps listed before a probe's load and not after it: the
 * load evicted them (Ollama unloads idle models to make room, or all of them to retry an out-of-memory load). Empty
 * when either listing is unknown.
 */
export function evictedByLoad(
  keepWarm: readonly string[],
  loaded: string,
  before: Listing | null,
  after: Listing | null,
): string[] {
  if (before === null || after === null) return [];
  const self = modelNameKey(loaded);
  return keepWarm.filter((m) => {
    const k = modelNameKey(m);
    return k !== self && before.has(k) && !after.has(k);
  });
}
