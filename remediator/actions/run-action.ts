import type { ActionDeps, ActionRequest, ActionResult } from './action.js';

/** Dispatches one healing step. (Contract commit: the actions themselves land in the following commits.) */
export async function runAction(req: ActionRequest, _deps: ActionDeps): Promise<ActionResult> {
  return { outcome: 'failed', detail: `${req.action}: not implemented yet`, calls: [] };
}
