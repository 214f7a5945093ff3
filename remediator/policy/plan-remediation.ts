import type { ContainerSelector } from '../../shared/config/types.js';
import type { Condition, Diagnosis, SuggestedAction } from '../../shared/diagnosis/diagnose-target.js';
import type { ActionName } from '../actions/action.js';
import type { RuleConfig } from '../remediator-section.js';
import { defaultLadder, fittingSteps } from './ladder-families.js';

export type Plan =
  | {
      readonly kind: 'act';
      readonly condition: Condition;
      readonly ladder: readonly ActionName[];
      readonly start: number;
      readonly model?: string;
      readonly detail: string;
    }
  /** Humans only: host GPU faults, partial offload, out of memory, overload, or nothing on the ladder fits. */
  | {
      readonly kind: 'escalate';
      readonly condition: Condition;
      readonly reason: 'escalation_only' | 'no_fitting_step' | 'ladder_exhausted';
      readonly detail: string;
    }
  | {
      readonly kind: 'skip';
      readonly condition: Condition;
      /** normal: what was seen is Ollama working as it should (a cold load, a saturated runner). */
      readonly reason: 'cleared' | 'inconclusive' | 'normal';
      readonly detail: string;
    };

/** Conditions that are normal behaviour, never acted on: a cold load in progress, a runner saturated by users. */
const NORMAL: readonly Condition[] = ['model_loading', 'runner_busy'];

export interface PlanInput {
  readonly diagnosis: Diagnosis;
  readonly rule: Pick<RuleConfig, 'ladder' | 'start'>;
  readonly selector: ContainerSelector | undefined;
  /** Steps below this index were already climbed by this incident (the ladder is never climbed down). */
  readonly ladderPos: number;
  /** The ladder fixed by an earlier plan of the same incident. */
  readonly ladder?: readonly ActionName[];
}

/**
 * Pure: diagnosis first, then the first step of the ladder that fits the most urgent condition, never below where
 * the incident already is. Conditions a restart cannot cure are escalated and never acted on.
 */
export function planRemediation(input: PlanInput): Plan {
  const { diagnosis } = input;
  const condition = diagnosis.status;
  if (condition === 'healthy')
    return { kind: 'skip', condition, reason: 'cleared', detail: 'the target is healthy now: nothing to do' };
  const finding = diagnosis.findings.find((f) => f.condition === condition)!;
  const detail = finding.detail;
  const suggestion: SuggestedAction = finding.action;
  if (suggestion === 'escalate')
    return {
      kind: 'escalate',
      condition,
      reason: 'escalation_only',
      detail: `${condition}: ${detail} (a restart cannot fix this: humans needed)`,
    };
  if (suggestion === 'wait' || suggestion === 'none')
    return {
      kind: 'skip',
      condition,
      reason: NORMAL.includes(condition) ? 'normal' : 'inconclusive',
      detail: `${condition}: ${detail}`,
    };

  const ladder = input.ladder ?? input.rule.ladder ?? defaultLadder(suggestion, input.selector, condition);
  const fits = fittingSteps(suggestion);
  const from = Math.max(
    input.ladderPos,
    input.rule.start === 'auto' ? 0 : Math.max(0, ladder.indexOf(input.rule.start)),
  );
  const start = ladder.findIndex((step, i) => i >= from && fits.includes(step));
  if (start < 0) {
    const why = input.ladderPos > 0 && ladder.length > 0 ? 'ladder_exhausted' : 'no_fitting_step';
    return {
      kind: 'escalate',
      condition,
      reason: why,
      detail: `${condition}: ${detail}; ${why === 'ladder_exhausted' ? 'no step left on the ladder' : `no step of [${ladder.join(', ') || 'no container declared'}] fits (needs one of ${fits.join(', ')})`}`,
    };
  }
  return {
    kind: 'act',
    condition,
    ladder,
    start,
    ...(finding.model ? { model: finding.model } : {}),
    detail: `${condition}: ${detail}`,
  };
}
