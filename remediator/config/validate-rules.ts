import { ACTION_NAMES, type ActionName } from '../actions/action.js';
import type { ConfigIssues } from '../../shared/config/config-issues.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';

/** What to do with an alert that arrives inside its rule's quiet window. */
export type QuietMode = 'defer' | 'drop';

/** One `remediator.rules[]` entry: which alerts it takes and how it heals them. First matching rule wins. */
export interface RuleConfig {
  readonly name: string;
  /** Label equality; every pair must hold. */
  readonly match: Readonly<Record<string, string>>;
  /** Label regex, anchored at both ends (as Alertmanager's =~); every pair must hold. Source kept for explain. */
  readonly match_re: Readonly<Record<string, string>>;
  /** Explicit escalation ladder; absent = chosen from the diagnosis. */
  readonly ladder?: readonly ActionName[];
  /** 'auto' = the step that fits the diagnosis; an action name = always start there (still diagnosis-gated). */
  readonly start: 'auto' | ActionName;
  /** Overrides the global dry_run for this rule when set. */
  readonly dry_run?: boolean;
  /** Name of a quiet_hours window. */
  readonly quiet?: string;
  readonly quiet_mode: QuietMode;
  /** Label naming the model the alert is about (used by warm_up, reload and pull_model). */
  readonly model_label: string;
}

export const RULE_KEYS = [
  'name',
  'match',
  'match_re',
  'ladder',
  'start',
  'dry_run',
  'quiet',
  'quiet_mode',
  'model_label',
];
export const RULE_NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;
export const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `remediator.rules`: every problem is reported; valid rules are returned in file order (first match wins). */
export function validateRules(raw: unknown, quietNames: readonly string[], issues: ConfigIssues): RuleConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.add('remediator.rules', 'must be a list of rules', 'write `rules:` followed by `- name: ...` items');
    return [];
  }
  const seen = new Set<string>();
  const out: RuleConfig[] = [];
  raw.forEach((item, i) => {
    const path = `remediator.rules[${i}]`;
    if (!isRecord(item)) {
      issues.add(path, 'must be a mapping', 'write `- name: gpu-lost` with `match:` and optionally `ladder:`');
      return;
    }
    const before = issues.list.length;
    checkKeys(item, RULE_KEYS, path, issues);
    const name = item.name;
    if (typeof name !== 'string' || !RULE_NAME_RE.test(name)) {
      issues.add(
        `${path}.name`,
        `${JSON.stringify(name)} is not a valid rule name`,
        'use letters, digits, "_", "-" or ".", starting with a letter',
      );
    } else if (seen.has(name))
      issues.add(`${path}.name`, `duplicate rule name "${name}"`, 'give every rule its own name');
    else seen.add(name);

    const match = labelMap(item.match, `${path}.match`, issues, () => undefined);
    const matchRe = labelMap(item.match_re, `${path}.match_re`, issues, (value) => {
      try {
        new RegExp(`^(?:${value})$`);
        return undefined;
      } catch (err) {
        return `bad regular expression: ${(err as Error).message}`;
      }
    });

    let ladder: ActionName[] | undefined;
    if (item.ladder !== undefined) {
      if (!Array.isArray(item.ladder) || item.ladder.length === 0) {
        issues.add(
          `${path}.ladder`,
          'must be a non-empty list of action names',
          `list steps from: ${ACTION_NAMES.join(', ')}`,
        );
      } else {
        ladder = [];
        item.ladder.forEach((step, j) => {
          if (typeof step !== 'string' || !(ACTION_NAMES as readonly string[]).includes(step)) {
            issues.add(
              `${path}.ladder[${j}]`,
              `unknown action ${JSON.stringify(step)}`,
              `use one of: ${ACTION_NAMES.join(', ')}`,
            );
          } else if (ladder!.includes(step as ActionName)) {
            issues.add(
              `${path}.ladder[${j}]`,
              `"${step}" appears twice`,
              'a ladder only climbs: list each action once',
            );
          } else ladder!.push(step as ActionName);
        });
      }
    }

    let start: RuleConfig['start'] = 'auto';
    if (item.start !== undefined && item.start !== 'auto') {
      if (typeof item.start !== 'string' || !(ACTION_NAMES as readonly string[]).includes(item.start)) {
        issues.add(
          `${path}.start`,
          `unknown action ${JSON.stringify(item.start)}`,
          `use "auto" or one of: ${ACTION_NAMES.join(', ')}`,
        );
      } else if (!ladder) {
        issues.add(`${path}.start`, 'names a step but the rule has no ladder', 'add `ladder:` or use `start: auto`');
      } else if (!ladder.includes(item.start as ActionName)) {
        issues.add(
          `${path}.start`,
          `"${item.start}" is not in the ladder`,
          `use "auto" or one of: ${ladder.join(', ')}`,
        );
      } else start = item.start as ActionName;
    }

    if (item.dry_run !== undefined && typeof item.dry_run !== 'boolean')
      issues.add(`${path}.dry_run`, 'must be true or false', 'write dry_run: true');
    let quiet: string | undefined;
    if (item.quiet !== undefined) {
      if (typeof item.quiet !== 'string' || !quietNames.includes(item.quiet)) {
        issues.add(
          `${path}.quiet`,
          `unknown quiet window ${JSON.stringify(item.quiet)}`,
          quietNames.length ? `use one of: ${quietNames.join(', ')}` : 'declare it under remediator.quiet_hours first',
        );
      } else quiet = item.quiet;
    }
    let quietMode: QuietMode = 'defer';
    if (item.quiet_mode !== undefined) {
      if (item.quiet_mode !== 'defer' && item.quiet_mode !== 'drop')
        issues.add(
          `${path}.quiet_mode`,
          `${JSON.stringify(item.quiet_mode)} is not defer or drop`,
          'use defer (act at the window end if still firing) or drop',
        );
      else quietMode = item.quiet_mode;
      if (item.quiet === undefined)
        issues.add(
          `${path}.quiet_mode`,
          'is set but the rule names no quiet window',
          'add `quiet: <window>` or remove quiet_mode',
        );
    }
    let modelLabel = 'model';
    if (item.model_label !== undefined) {
      if (typeof item.model_label !== 'string' || !LABEL_RE.test(item.model_label))
        issues.add(
          `${path}.model_label`,
          `${JSON.stringify(item.model_label)} is not a label name`,
          'use a Prometheus label name such as model',
        );
      else modelLabel = item.model_label;
    }
    if (issues.list.length !== before) return;
    out.push({
      name: name as string,
      match,
      match_re: matchRe,
      ...(ladder ? { ladder } : {}),
      start,
      ...(typeof item.dry_run === 'boolean' ? { dry_run: item.dry_run } : {}),
      ...(quiet ? { quiet } : {}),
      quiet_mode: quietMode,
      model_label: modelLabel,
    });
  });
  return out;
}

function labelMap(
  raw: unknown,
  path: string,
  issues: ConfigIssues,
  check: (value: string) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  if (!isRecord(raw)) {
    issues.add(path, 'must be a mapping of label name to value', 'write e.g. `{alertname: OllamaGpuAccessLost}`');
    return out;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!LABEL_RE.test(key))
      issues.add(
        `${path}.${key}`,
        'is not a valid label name',
        'use letters, digits and "_", not starting with a digit',
      );
    else if (typeof value !== 'string')
      issues.add(`${path}.${key}`, `expected text, got ${JSON.stringify(value)}`, 'quote the value');
    else {
      const problem = check(value);
      if (problem) issues.add(`${path}.${key}`, problem, 'fix the expression (it is anchored: ^(?:...)$ is implied)');
      else out[key] = value;
    }
  }
  return out;
}
