import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { ActionDeps, ActionName } from './action.js';

/**
 * After a crash mid-step: compares the intent's `before` evidence with Docker's / the kernel's state now. true = the
 * step took effect, false = it did not, null = cannot tell. (Contract commit: implemented in a following commit.)
 */
export async function actionHappened(
  _action: ActionName,
  _before: Record<string, unknown>,
  _target: OllamaTargetConfig,
  _deps: ActionDeps,
): Promise<boolean | null> {
  return null;
}
