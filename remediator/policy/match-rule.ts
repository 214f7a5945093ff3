import type { CompiledRule } from './compiled-rule.js';

/**
 * The first rule whose matchers all hold for these labels (file order, like routes with continue: false).
 * A missing label counts as the empty string, as in Alertmanager. Labels are only compared, never interpreted.
 */
export function matchRule(rules: readonly CompiledRule[], labels: Readonly<Record<string, string>>): CompiledRule | undefined {
  const value = (k: string) => (Object.hasOwn(labels, k) ? labels[k]! : '');
  return rules.find(
    (c) => Object.entries(c.rule.match).every(([k, v]) => value(k) === v) && c.regexes.every(([k, re]) => re.test(value(k))),
  );
}
