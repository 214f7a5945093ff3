import { OllamaError } from '../../shared/ollama/ollama-error.js';
import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import type { CallLog } from './call-log.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/**
 * Ollama answers an unload request (keep_alive 0, empty prompt) at once: server/routes.go GenerateHandler calls
 * sched.expireRunner and replies, in 0.12.6 as in 0.33.0-rc2. No answer within this means the server is stuck.
 */
const UNLOAD_ANSWER_MS = 30_000;

/**
 * reload, as Ollama really unloads (server/sched.go at v0.33.0-rc2, same in 0.12.6): expireRunner sets expiresAt to
 * now and sessionDuration to 0, but queues the unload only while refCount is 0; with requests in flight the runner
 * unloads when the last one finishes (processCompleted: refCount 0 and sessionDuration <= 0 -> expiredCh), and a
 * request arriving meanwhile with its own keep_alive sets sessionDuration again (useLoadedRunner), so the model
 * stays. So: ask for the unload, wait (bounded by `deadlineMs`, the verification deadline) until /api/ps no longer
 * lists the model, or lists it with a new future expiry (used and kept again since), then load it with the model's
 * fields; done only when /api/ps then lists it resident and not past its expiry. The gentle cure for one hung or
 * misplaced runner: Ollama stops its own runner, no signal is sent. An unload request that gets no answer says the
 * server, not the model, is stuck (`serverStuck`: the engine goes to the restart steps).
 */
export async function reloadModel(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const model = req.model;
  if (!model) return { outcome: 'failed', detail: 'reload needs a model', calls: calls.calls };
  const fields = modelRequestFields(model);
  const client = deps.ollama(req.target);
  const url = req.target.url;
  const isIt = (m: { name: string; model: string }) => m.name === fields.model || m.model === fields.model;

  calls.read(`GET ${url}/api/ps`);
  const resident = (await client.ps({ signal: req.signal })).find(isIt);
  const before = {
    model: fields.model,
    loaded: resident !== undefined,
    expiresAt: resident?.expires_at ?? null,
    sizeVram: resident?.size_vram ?? null,
  };
  const loadBody = JSON.stringify({
    model: fields.model,
    keep_alive: fields.keep_alive,
    options: fields.options,
    stream: false,
  });

  if (req.dryRun) {
    if (resident) {
      calls.write(`POST ${url}/api/generate {"model":${JSON.stringify(fields.model)},"keep_alive":0,"stream":false}`);
      calls.write(`poll GET ${url}/api/ps until ${fields.model} is gone`);
    }
    calls.write(`POST ${url}/api/generate ${loadBody}`);
    return {
      outcome: 'skipped',
      detail: `dry-run: would ${resident ? 'unload and ' : ''}load ${fields.model} on ${req.target.name}`,
      calls: calls.calls,
      before,
    };
  }
  await req.onBefore?.(before);

  const deadlineMs = req.deadlineMs ?? deps.timeouts.loadMs;
  let unloadNote = 'was not loaded';
  if (resident) {
    calls.write(`POST ${url}/api/generate {"model":${JSON.stringify(fields.model)},"keep_alive":0,"stream":false}`);
    const answerMs = Math.min(UNLOAD_ANSWER_MS, deadlineMs);
    try {
      await client.unload(fields.model, { signal: req.signal, timeoutMs: answerMs });
    } catch (err) {
      if (req.signal.aborted || !(err instanceof OllamaError && err.reason === 'timeout')) throw err;
      return {
        outcome: 'failed',
        detail: `the unload request for ${fields.model} got no answer within ${answerMs} ms: Ollama answers it at once, so the server, not the model, is stuck`,
        calls: calls.calls,
        before,
        serverStuck: `unload request (keep_alive 0) timed out after ${answerMs} ms`,
      };
    }
    calls.read(`poll GET ${url}/api/ps until ${fields.model} is gone (or kept again with a new expiry)`);
    const unloaded = await waitUntil(
      async () => {
        const list = await client.ps({ signal: boundedSignal(req.signal, 10_000) }).catch(() => undefined);
        if (!list) return undefined; // /api/ps may block while a runner loads (0.32.4+): not an answer
        const entry = list.find(isIt);
        if (!entry) return 'unloaded';
        // expireRunner set expires_at to now: a future one again means it was used and kept since.
        return entry.expiresAtMs !== undefined && !entry.stopping ? 'kept again with a new expiry' : undefined;
      },
      { timeoutMs: deadlineMs, intervalMs: 250, signal: req.signal, now: () => deps.now(), ...sleepOf(deps) },
    );
    if (!unloaded)
      return {
        outcome: 'failed',
        detail: `asked ${fields.model} to unload, but /api/ps still lists it, past its expiry, after ${deadlineMs} ms: Ollama unloads a runner only once its requests in flight finish, and these never did (hung runner); nothing was loaded`,
        calls: calls.calls,
        before,
        unchanged: true,
      };
    unloadNote = unloaded;
  }
  calls.write(`POST ${url}/api/generate ${loadBody}`);
  const { loadMs, final } = await client.load(
    fields.model,
    { keep_alive: fields.keep_alive, options: fields.options },
    { signal: req.signal, timeoutMs: Math.max(deadlineMs, deps.timeouts.loadMs) },
  );
  calls.read(`GET ${url}/api/ps`);
  const after = (await client.ps({ signal: boundedSignal(req.signal, 10_000) })).find(isIt);
  // Where it landed (GPU or CPU) is the verification's to judge, against min_vram_ratio and the GPU's own data.
  const problem = !after
    ? 'not listed by /api/ps after loading'
    : after.stopping
      ? 'listed past its expiry right after loading (it is being unloaded)'
      : null;
  const loaded = `${unloadNote}, loaded again in ${loadMs} ms (done_reason ${String(final.done_reason ?? '?')})`;
  return {
    outcome: problem ? 'failed' : 'done',
    detail: `${fields.model} on ${req.target.name}: ${loaded}${problem ? `, but ${problem}` : ', listed and resident'}`,
    calls: calls.calls,
    before,
  };
}

function sleepOf(deps: ActionDeps): { sleep?: NonNullable<ActionDeps['sleep']> } {
  return deps.sleep ? { sleep: deps.sleep } : {};
}
