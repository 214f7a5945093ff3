import { ensureModel } from '../../shared/provision/ensure-model.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import type { CallLog } from './call-log.js';
import { boundedSignal } from './wait-until.js';

/**
 * pull_model: the same strict path init uses (shared/provision ensureModel: /api/show first, pull or create, fail on
 * any error line, retry stalls), under the action's pull deadline.
 */
export async function pullModel(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const model = req.model;
  if (!model) return { outcome: 'failed', detail: 'pull_model needs a model', calls: calls.calls };
  const client = deps.ollama(req.target);
  const url = req.target.url;

  calls.read(`POST ${url}/api/show {"model":${JSON.stringify(model.name)}}`);
  const present = (await client.show(model.name, { signal: req.signal })) !== null;
  const before = { model: model.name, present };
  if (present)
    return {
      outcome: 'skipped',
      detail: `${model.name} is already present on ${req.target.name}`,
      calls: calls.calls,
      before,
    };

  const what = model.create
    ? `POST ${url}/api/create (from ${String(model.create.from)})`
    : `POST ${url}/api/pull {"model":${JSON.stringify(model.name)},"stream":true}`;
  if (!calls.write(what))
    return {
      outcome: 'skipped',
      detail: `dry-run: would fetch ${model.name} onto ${req.target.name}`,
      calls: calls.calls,
      before,
    };
  await req.onBefore?.(before);
  const outcome = await ensureModel(client, model, {
    stallTimeoutMs: 60_000,
    retries: 2,
    backoff: { initialMs: 2_000, maxMs: 30_000 },
    signal: boundedSignal(req.signal, deps.timeouts.pullMs),
    now: () => deps.now(),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  return {
    outcome: 'done',
    detail: `${model.name} ${outcome.action} on ${req.target.name} in ${outcome.durationMs} ms (${outcome.attempts} attempt(s))`,
    calls: calls.calls,
    before,
  };
}
