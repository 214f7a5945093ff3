import { modelRequestFields } from '../../shared/ollama/model-request-fields.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import type { CallLog } from './call-log.js';

/**
 * warm_up: load the model through the Ollama API with exactly the fields every component sends (modelRequestFields):
 * other options would make Ollama reload the runner, another keep_alive would undo its pinning.
 */
export async function warmUp(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const model = req.model;
  if (!model) return { outcome: 'failed', detail: 'warm_up needs a model', calls: calls.calls };
  const fields = modelRequestFields(model);
  const client = deps.ollama(req.target);
  const body = JSON.stringify({
    model: fields.model,
    keep_alive: fields.keep_alive,
    options: fields.options,
    stream: false,
  });

  calls.read(`GET ${req.target.url}/api/ps`);
  const resident = (await client.ps({ signal: req.signal })).find(
    (m) => m.name === fields.model || m.model === fields.model,
  );
  const before = {
    model: fields.model,
    loaded: resident !== undefined,
    expiresAt: resident?.expires_at ?? null,
    sizeVram: resident?.size_vram ?? null,
  };

  if (!calls.write(`POST ${req.target.url}/api/generate ${body}`)) {
    return {
      outcome: 'skipped',
      detail: `dry-run: would load ${fields.model} on ${req.target.name}`,
      calls: calls.calls,
      before,
    };
  }
  await req.onBefore?.(before);
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
    detail: `loaded ${fields.model} on ${req.target.name} in ${loadMs} ms (done_reason ${String(final.done_reason ?? '?')}, keep_alive ${JSON.stringify(fields.keep_alive)})`,
    calls: calls.calls,
    before,
  };
}
