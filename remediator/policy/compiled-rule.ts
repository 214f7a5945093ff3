import type { RuleConfig } from '../remediator-section.js';

/** A rule with its regexes compiled once (anchored like Alertmanager's =~ matchers). */
export interface CompiledRule {
  readonly rule: RuleConfig;
  readonly regexes: readonly (readonly [label: string, re: RegExp])[];
}

export function compileRules(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map((rule) => ({ rule, regexes: Object.entries(rule.match_re).map(([k, v]) => [k, new RegExp(`^(?:${v})$`)] as const) }));
}
