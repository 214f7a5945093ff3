import { modelNameKey } from '../ollama/normalize-model-name.js';
import { PROBE_FAILURES_NEEDED, RUNNER_BUSY_LIMIT_MS, type Finding } from './finding.js';
import { isOutOfMemoryMessage } from './out-of-memory.js';
import type { ProbeObservation, TargetObservation } from './target-observation.js';

const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;

/**
 * Ollama's own verdict on a load with no progress for OLLAMA_LOAD_TIMEOUT (WaitUntilRunning: 0.12 llm/server.go
 * "timed out waiting for llama runner to start - progress 0.00 - ", 0.30+ llm/llama_server.go "... llama-server to
 * start - "). Not the ": context canceled" form: that is a client that left, which the probe never reports on itself.
 */
const OLLAMA_LOAD_TIMED_OUT = /timed out waiting for llama(?: runner|-server) to start - /;

/**
 * What the one-token probes say. A resident model's request never gets 503 in Ollama: it waits, without limit, for a
 * free slot (sched.go GetRunner -> useLoadedRunner; the runner's slot semaphore), so a probe that times out behind
 * users looks exactly like a hung runner from the API alone. The runner's own activity while the probe waited
 * (runnerBusyDuringWait) separates them: progressing = busy (normal), flat = hung. Not visible = the old rule.
 */
export function diagnoseProbes(
  o: TargetObservation,
  loading: { readonly targetLoading: boolean; readonly loadingModels: ReadonlySet<string> },
): Finding[] {
  const f: Finding[] = [];
  const isLoading = (p: ProbeObservation): boolean =>
    loading.targetLoading || loading.loadingModels.has(modelNameKey(p.model));
  for (const p of o.probes) {
    if (p.evictedBy) {
      f.push({
        condition: 'keep_warm_evicted',
        model: p.model,
        detail: `${p.model} (keep_warm) was evicted when the probe loaded ${p.evictedBy} (keep_warm): the two do not fit on this target together. The probe does not reload ${p.model} while ${p.evictedBy} is loaded (each reload would evict the other, every probe interval): give the GPU more room, or take one off keep_warm`,
        action: 'escalate',
      });
    }
    switch (p.result) {
      case 'ok':
        break;
      case 'skipped':
        f.push(busy(o, p, 'was not probed: its runner is busy serving requests (the probe would take a user slot)'));
        break;
      case 'pending':
        // A pending probe has no outcome yet, and the one before it is no longer current: only the runner's
        // activity while it waits says anything.
        if (p.runnerBusyDuringWait === true)
          f.push(busy(o, p, 'has a probe waiting behind requests the runner is busy with'));
        else if (!isLoading(p))
          f.push({
            condition: 'unknown',
            model: p.model,
            detail: `the probe of ${p.model} has not answered within its first-token deadline and is still waiting: ${p.runnerBusyDuringWait === false ? 'its runner is idle meanwhile, so a hang is likely; waiting for the outcome' : 'busy, loading or hung is not known yet'}`,
            action: 'wait',
          });
        break;
      case 'not_found':
        f.push({
          condition: 'model_missing',
          model: p.model,
          detail: `the probe got 404 for ${p.model}`,
          action: 'pull',
        });
        break;
      case 'busy':
        f.push({
          condition: 'server_busy',
          model: p.model,
          detail: 'Ollama answers 503 (load queue full, OLLAMA_MAX_QUEUE): overloaded, not broken',
          action: 'escalate',
        });
        break;
      default:
        f.push(...failed(o, p, isLoading(p)));
    }
  }
  return f;
}

function failed(o: TargetObservation, p: ProbeObservation, loading: boolean): Finding[] {
  // Every out-of-memory form escalates on its first failure: a reload runs into the same wall.
  if (p.result === 'error' && isOutOfMemoryMessage(p.message)) {
    const evicted = p.evicted?.length
      ? `; to make room Ollama evicted ${p.evicted.join(', ')} (keep_warm), which the probe reloads`
      : '';
    const held =
      p.heldUntilMs != null
        ? `; the probe does not load ${p.model} again before ${new Date(p.heldUntilMs).toISOString()} unless something else loads it (never a reload into the same out-of-memory)`
        : '';
    return [
      {
        condition: 'out_of_memory',
        model: p.model,
        detail: `${p.message ?? 'out of memory'}${evicted}${held}`,
        action: 'escalate',
      },
    ];
  }
  if (p.result === 'timeout' && p.runnerBusyDuringWait === true)
    return [busy(o, p, 'got no token in time while its runner kept working: waiting behind other requests')];
  if (p.result === 'loading' && loading) return []; // model_loading already says it, with the evidence
  if (p.consecutiveFailures < PROBE_FAILURES_NEEDED)
    return [
      {
        condition: 'unknown',
        model: p.model,
        detail: `one probe failed (${p.result}); waiting for another before calling it`,
        action: 'wait',
      },
    ];
  if (p.result === 'error' && OLLAMA_LOAD_TIMED_OUT.test(p.message ?? ''))
    return [
      {
        condition: 'load_stalled',
        model: p.model,
        detail: `Ollama gave up loading ${p.model} ${p.consecutiveFailures} times in a row: no load progress for its OLLAMA_LOAD_TIMEOUT (${p.message}); a reload would stall the same way`,
        action: 'restart',
      },
    ];
  if (p.result === 'timeout')
    return [
      {
        condition: 'probe_hung',
        model: p.model,
        detail:
          p.runnerBusyDuringWait === false
            ? `${p.consecutiveFailures} probes in a row got no token in time and the runner made no progress (CPU time, GPU) while they waited: hung runner`
            : `${p.consecutiveFailures} probes in a row got no token in time while the API answers (runner activity not visible): hung runner`,
        action: 'reload',
      },
    ];
  return [
    {
      condition: 'probe_failing',
      model: p.model,
      detail:
        p.result === 'loading'
          ? `${p.consecutiveFailures} probes in a row could not load ${p.model} in time, with no sign of a load in progress`
          : `${p.consecutiveFailures} probes in a row failed: ${p.message ?? p.result}`,
      action: 'reload',
    },
  ];
}

/** Busy is normal; busy for longer than the bounded wait goes to humans (busy and spinning look alike). */
function busy(o: TargetObservation, p: ProbeObservation, what: string): Finding {
  const since = p.busySinceMs ?? null;
  const now = o.observedAtMs;
  const forMs = since !== null && now !== null ? Math.max(0, now - since) : null;
  if (forMs !== null && forMs >= RUNNER_BUSY_LIMIT_MS)
    return {
      condition: 'runner_busy_too_long',
      model: p.model,
      detail: `${p.model} ${what}, and no probe has got through for ${secs(forMs)} (bounded wait ${secs(RUNNER_BUSY_LIMIT_MS)}): a saturated runner and one spinning forever look alike from outside, so humans decide`,
      action: 'escalate',
    };
  return {
    condition: 'runner_busy',
    model: p.model,
    detail: `${p.model} ${what}${forMs !== null ? ` (busy for ${secs(forMs)})` : ''}: saturated, not hung`,
    action: 'none',
  };
}
