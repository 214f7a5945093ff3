import type { RuleConfig } from '../remediator-section.js';

/** A rule with its regexes compiled once (anchored like Alertmanager's =~ matchers). */
export interface CompiledRule {
  readonly rule: RuleConfig;
  readonly regexes: readonly (readonly [label: string, re: RegExp])[];
}

export function compileRules(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map((rule) => ({
    rule,
    regexes: Object.entries(rule.match_re).map(([k, v]) => [k, new RegExp(`^(?:${v})$`)] as const),
  }));
}

/**
 * The first rule whose matchers all hold for these labels (file order, like routes with continue: false).
 * A missing label counts as the empty string, as in Alertmanager. Labels are only compared, never interpreted.
 */
export function matchRule(
  rules: readonly CompiledRule[],
  labels: Readonly<Record<string, string>>,
): CompiledRule | undefined {
  const value = (k: string) => (Object.hasOwn(labels, k) ? labels[k]! : '');
  return rules.find(
    (c) =>
      Object.entries(c.rule.match).every(([k, v]) => value(k) === v) && c.regexes.every(([k, re]) => re.test(value(k))),
  );
}
