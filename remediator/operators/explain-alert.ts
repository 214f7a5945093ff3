import type { ContainerSelector, OllamaTargetConfig } from '../../shared/config/types.js';
import type { SuggestedAction } from '../../shared/diagnosis/diagnose-target.js';
import type { ActionName } from '../actions/action.js';
import type { RefusalReason } from '../journal/journal-record.js';
import type { CompiledRule } from '../policy/compiled-rule.js';
import { defaultLadder } from '../policy/ladder-families.js';
import { matchRule } from '../policy/match-rule.js';
import { resolveTarget } from '../policy/resolve-target.js';
import type { QuietWindow } from '../quiet/quiet-window.js';
import type { RemediatorConfig, RuleConfig } from '../remediator-section.js';

export interface Explanation {
  readonly labels: Readonly<Record<string, string>>;
  readonly target: { readonly name: string; readonly container?: ContainerSelector } | { readonly refused: RefusalReason; readonly detail: string };
  readonly rule?: RuleConfig;
  readonly dryRun?: boolean;
  readonly quiet?: { readonly window: string; readonly timezone: string; readonly quietNow: boolean; readonly until?: string | null; readonly mode: 'defer' | 'drop' };
  /** The rule's own ladder, or the default ladder per diagnosis suggestion. */
  readonly ladder?: { readonly fixed: readonly ActionName[]; readonly start: string } | { readonly byDiagnosis: Readonly<Partial<Record<SuggestedAction, readonly ActionName[]>>> };
  /** What would happen to an alert with these labels right now, before any diagnosis. */
  readonly verdict: string;
}

/** Pure: which rule and target an alert with these labels meets, whether it is quiet now, and the ladder. */
export function explainAlert(cfg: RemediatorConfig, targets: readonly OllamaTargetConfig[], rules: readonly CompiledRule[], windows: ReadonlyMap<string, QuietWindow>, labels: Readonly<Record<string, string>>, now: number): Explanation {
  const where = resolveTarget(labels, cfg.target_label, targets.map((t) => t.name), cfg.default_single_target);
  if ('refused' in where) return { labels, target: where, verdict: `refused (${where.refused}): recorded and counted, never acted on` };
  const t = targets.find((x) => x.name === where.target)!;
  const target = { name: t.name, ...(t.container ? { container: t.container } : {}) };
  const matched = matchRule(rules, labels);
  if (!matched) return { labels, target, verdict: 'refused (no_matching_rule): recorded and counted, never acted on' };
  const rule = matched.rule;
  const dryRun = rule.dry_run ?? cfg.dry_run;
  let quiet: Explanation['quiet'];
  if (rule.quiet) {
    const w = windows.get(rule.quiet)!;
    const quietNow = w.isQuiet(now);
    const end = quietNow ? w.endAfter(now) : undefined;
    quiet = { window: rule.quiet, timezone: w.config.timezone, quietNow, ...(quietNow ? { until: end === null ? null : new Date(end!).toISOString() } : {}), mode: rule.quiet_mode };
  }
  const ladder: Explanation['ladder'] = rule.ladder
    ? { fixed: rule.ladder, start: rule.start }
    : { byDiagnosis: Object.fromEntries((['restart', 'reload', 'kill_orphans', 'pull'] as const).map((s) => [s, defaultLadder(s, t.container)])) };
  let verdict = dryRun ? 'dry-run: the ladder would be logged, nothing acted on' : 'would diagnose the target, then act';
  if (quiet?.quietNow) verdict = quiet.mode === 'drop' ? `dropped: quiet window "${quiet.window}" is active` : `deferred until ${quiet.until ?? 'the search bound (the window never ends within 8 days)'} (quiet window "${quiet.window}"), then re-checked`;
  return { labels, target, rule, dryRun, ...(quiet ? { quiet } : {}), ladder, verdict };
}

/** Human-readable form, like `amtool config routes test` answers. */
export function formatExplanation(e: Explanation): string {
  const lines = [`labels:   ${Object.entries(e.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') || '(none)'}`];
  if ('refused' in e.target) lines.push(`target:   none: ${e.target.detail}`);
  else lines.push(`target:   ${e.target.name}${e.target.container ? ` (${describeSelector(e.target.container)})` : ' (no container declared: restarts impossible)'}`);
  if (e.rule) {
    const m = [...Object.entries(e.rule.match).map(([k, v]) => `${k}=${JSON.stringify(v)}`), ...Object.entries(e.rule.match_re).map(([k, v]) => `${k}=~${JSON.stringify(v)}`)];
    lines.push(`rule:     ${e.rule.name}${m.length ? ` (${m.join(', ')})` : ' (matches every alert)'}`);
    lines.push(`dry-run:  ${e.dryRun ? 'yes' : 'no'}`);
    lines.push(`quiet:    ${e.quiet ? `${e.quiet.window} (${e.quiet.timezone}, ${e.quiet.mode}): ${e.quiet.quietNow ? `quiet now, until ${e.quiet.until ?? 'beyond 8 days'}` : 'not quiet now'}` : 'none'}`);
    if (e.ladder && 'fixed' in e.ladder) lines.push(`ladder:   ${e.ladder.fixed.join(' -> ')} (start: ${e.ladder.start === 'auto' ? 'the first step that fits the diagnosis' : e.ladder.start})`);
    else if (e.ladder) {
      lines.push('ladder:   chosen by the diagnosis:');
      for (const [s, l] of Object.entries(e.ladder.byDiagnosis)) lines.push(`            ${s.padEnd(13)} ${l.length ? l.join(' -> ') : '(nothing possible: escalate)'}`);
      lines.push('            escalate      (GPU fault, partial offload, out of memory, busy) humans only, never a restart');
    }
  } else if (!('refused' in e.target)) lines.push('rule:     none matches');
  lines.push(`verdict:  ${e.verdict}`);
  return `${lines.join('\n')}\n`;
}

function describeSelector(s: ContainerSelector): string {
  if (s.kind === 'compose') return `compose project ${s.project}, service ${s.service}`;
  if (s.kind === 'swarm') return `swarm service ${s.stack ? `${s.stack}_` : ''}${s.service}${s.stack_file ? `, stack file ${s.stack_file}` : ''}`;
  return `container ${s.name}`;
}
