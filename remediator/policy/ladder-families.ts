import type { ContainerSelector } from '../../shared/config/types.js';
import type { Condition, SuggestedAction } from '../../shared/diagnosis/diagnose-target.js';
import type { ActionName } from '../actions/action.js';

/** Steps that replace the Ollama process (and its PID namespace and device cgroup). */
export const RESTART_FAMILY: readonly ActionName[] = [
  'restart_container',
  'recreate_container',
  'force_update_service',
  'redeploy_stack',
];

/** The restart steps that make sense for how the target is deployed; none when no container is declared. */
export function restartSteps(selector: ContainerSelector | undefined): ActionName[] {
  if (!selector) return [];
  if (selector.kind === 'swarm')
    return selector.stack && selector.stack_file
      ? ['force_update_service', 'redeploy_stack']
      : ['force_update_service'];
  return ['restart_container', 'recreate_container'];
}

/**
 * The ladder used when a rule names none: the diagnosis' suggestion first, then harder steps. A crashed runner has no
 * process left to kill: a reload (the lightest cure: Ollama starts a new runner), then the restart steps.
 */
export function defaultLadder(
  suggestion: SuggestedAction,
  selector: ContainerSelector | undefined,
  condition?: Condition,
): ActionName[] {
  if (condition === 'runner_crashed' && suggestion === 'reload') return ['reload', ...restartSteps(selector)];
  switch (suggestion) {
    case 'restart':
      return restartSteps(selector);
    case 'reload':
      return ['reload', 'kill_runner', ...restartSteps(selector)];
    case 'kill_orphans':
      return ['kill_orphans', ...restartSteps(selector)];
    case 'pull':
      return ['pull_model'];
    default:
      return [];
  }
}

/**
 * Which steps may START a ladder for a suggestion. A lost GPU only accepts restarts (a warm-up or reload would load
 * the model onto the CPU); a hung runner accepts a reload, a runner kill or, failing those, a restart.
 */
export function fittingSteps(suggestion: SuggestedAction): readonly ActionName[] {
  switch (suggestion) {
    case 'restart':
      return RESTART_FAMILY;
    case 'reload':
      return ['reload', 'warm_up', 'kill_runner', ...RESTART_FAMILY];
    case 'kill_orphans':
      return ['kill_orphans', ...RESTART_FAMILY];
    case 'pull':
      return ['pull_model'];
    default:
      return [];
  }
}
