import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import { CallLog, errorText } from './call-log.js';
import { forceUpdateService } from './force-update-service.js';
import { refuseOnWorker, SERVICE_LEVEL } from './prove-own-node.js';
import { killRunners } from './kill-runners.js';
import { pullModel } from './pull-model.js';
import { redeployStack } from './redeploy-stack.js';
import { reloadModel } from './reload-model.js';
import { restartContainer } from './restart-container.js';
import { warmUp } from './warm-up.js';

/**
 * The registry: the one file that maps action names to their implementations (dispatch below). Only the wiring
 * imports it; config validation, policy and the engine need just the contract in action.ts.
 *
 * Runs one healing step and never throws: an error becomes `failed` with the calls made so far and the `before`
 * evidence if it was already taken (so a half-done step can still be judged by actionHappened).
 */
export async function runAction(req: ActionRequest, deps: ActionDeps): Promise<ActionResult> {
  const calls = new CallLog(req.dryRun);
  const log = deps.log.child({
    component: 'action',
    action: req.action,
    target: req.target.name,
    incident: req.incidentId,
    dryRun: req.dryRun,
  });
  let evidence: Record<string, unknown> | undefined;
  const tracked: ActionRequest = {
    ...req,
    onBefore: async (before) => {
      evidence = before;
      await req.onBefore?.(before);
    },
  };
  const started = deps.now();
  let result: ActionResult;
  try {
    if (req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
    result = await dispatch(tracked, { ...deps, log }, calls);
  } catch (err) {
    const why = req.signal.aborted ? `aborted (${errorText(req.signal.reason ?? err)})` : errorText(err);
    result = {
      outcome: 'failed',
      detail: `${req.action} on ${req.target.name} failed: ${why}`,
      calls: calls.calls,
      ...(evidence ? { before: evidence } : {}),
    };
  }
  log.info(
    { outcome: result.outcome, detail: result.detail, calls: result.calls.length, ms: deps.now() - started },
    'action finished',
  );
  return result;
}

async function dispatch(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const viaService =
    SERVICE_LEVEL.includes(req.action) ||
    (req.action === 'recreate_container' && req.target.container?.kind === 'swarm');
  if (viaService) {
    const refused = await refuseOnWorker(req.action, deps, calls, req.signal);
    if (refused) return calls.result('skipped', refused);
  }
  switch (req.action) {
    case 'warm_up':
      return warmUp(req, deps, calls);
    case 'reload':
      return reloadModel(req, deps, calls);
    case 'pull_model':
      return pullModel(req, deps, calls);
    case 'kill_runner':
      return killRunners('runner', req, deps, calls);
    case 'kill_orphans':
      return killRunners('orphans', req, deps, calls);
    case 'restart_container':
      return restartContainer('restart', req, deps, calls);
    case 'recreate_container': {
      // Swarm recreates task containers itself when forced; Compose/plain get stop + start (see restartContainer).
      if (req.target.container?.kind === 'swarm') {
        const r = await forceUpdateService(req, deps, calls);
        return { ...r, detail: `recreate via Swarm force update: ${r.detail}` };
      }
      return restartContainer('stop_start', req, deps, calls);
    }
    case 'force_update_service':
      return forceUpdateService(req, deps, calls);
    case 'redeploy_stack':
      return redeployStack(req, deps, calls);
    default: {
      const unknown: never = req.action;
      return { outcome: 'failed', detail: `unknown action ${String(unknown)}`, calls: calls.calls };
    }
  }
}
