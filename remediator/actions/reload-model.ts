import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import type { CallLog } from './call-log.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/** Ollama answers the unload at once; the runner exits (and frees VRAM) a moment later. */
const UNLOAD_WAIT_MS = 30_000;

/**
 * reload: unload (keep_alive 0), wait until /api/ps no longer lists the model, then load it with the model's fields.
 * The gentle cure for one hung or misplaced runner: Ollama stops its own runner, no signal is sent.
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

  let unloadNote = 'was not loaded';
  if (resident) {
    calls.write(`POST ${url}/api/generate {"model":${JSON.stringify(fields.model)},"keep_alive":0,"stream":false}`);
    await client.unload(fields.model, { signal: req.signal });
    calls.read(`poll GET ${url}/api/ps until ${fields.model} is gone`);
    const gone = await waitUntil(
      async () => ((await client.ps({ signal: boundedSignal(req.signal, 10_000) })).some(isIt) ? undefined : true),
      {
        timeoutMs: UNLOAD_WAIT_MS,
        intervalMs: 250,
        signal: req.signal,
        now: () => deps.now(),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      },
    );
    // Still listed: loading anyway makes Ollama reuse or replace it; say so rather than fail.
    unloadNote = gone ? 'unloaded' : `unload asked but still listed after ${UNLOAD_WAIT_MS} ms`;
  }
  calls.write(`POST ${url}/api/generate ${loadBody}`);
  const { loadMs, final } = await client.load(
    fields.model,
    { keep_alive: fields.keep_alive, options: fields.options },
    {
      signal: req.signal,
      timeoutMs: deps.timeouts.loadMs,
    },
  );
  return {
    outcome: 'done',
    detail: `${fields.model} on ${req.target.name}: ${unloadNote}, loaded again in ${loadMs} ms (done_reason ${String(final.done_reason ?? '?')})`,
    calls: calls.calls,
    before,
  };
}
