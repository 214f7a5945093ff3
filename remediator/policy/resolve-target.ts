import type { RefusalReason } from '../journal/journal-record.js';

export type TargetResolution =
  { readonly target: string } | { readonly refused: RefusalReason; readonly detail: string };

/**
 * Which declared Ollama target an alert is about: the value of `targetLabel`. Without the label, and only when
 * exactly one target is declared and `defaultSingle` is on, that target (the common one-host setup). Anything
 * else is refused, never guessed.
 */
export function resolveTarget(
  labels: Readonly<Record<string, string>>,
  targetLabel: string,
  targetNames: readonly string[],
  defaultSingle: boolean,
): TargetResolution {
  const value = Object.hasOwn(labels, targetLabel) ? labels[targetLabel]! : undefined;
  if (value === undefined || value === '') {
    if (defaultSingle && targetNames.length === 1) return { target: targetNames[0]! };
    return {
      refused: 'no_target_label',
      detail: `the alert has no ${targetLabel} label naming a target (declared: ${targetNames.join(', ')})`,
    };
  }
  if (targetNames.includes(value)) return { target: value };
  return {
    refused: 'unknown_target',
    detail: `${targetLabel}=${JSON.stringify(value.slice(0, 80))} is not a declared target (declared: ${targetNames.join(', ')})`,
  };
}
