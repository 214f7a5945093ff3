import { EXIT_USAGE, type CommandDef } from '../shared/cli/command-def.js';
import type { ContainerSelector, OllamaTargetConfig } from '../shared/config/types.js';
import { diagnoseTarget, type SuggestedAction } from '../shared/diagnosis/diagnose-target.js';
import type { ActionName } from './actions/action.js';
import { blankObservation, readExporterObservation } from './engine/read-exporter-observation.js';
import type { RefusalReason } from './journal/journal-record.js';
import { judgeAlertNode, parseNodeScope } from './node/own-node.js';
import { defaultLadder } from './policy/ladder-families.js';
import { compileRules, matchRule, type CompiledRule } from './policy/match-rule.js';
import { planRemediation } from './policy/plan-remediation.js';
import { resolveTarget } from './policy/resolve-target.js';
import { QuietWindow } from './quiet/quiet-window.js';
import { remediatorSection, type RemediatorConfig, type RuleConfig } from './remediator-section.js';

/** Exit code when the labels meet no target or no rule (like amtool's route test failing). */
export const EXIT_NOT_HANDLED = 3;

export const command: CommandDef = {
  name: 'explain',
  summary: 'Show what the remediator would do with an alert: matched rule, target, quiet status and ladder.',
  description: `Give the alert's labels as --label k=v (repeatable) or as k=v arguments. Prints which node's remediator acts on it
(remediator.node_scope), the target (from the remediator.target_label label), the first matching rule, whether its quiet window is active now (or at --at TIME),
dry-run, and the ladder. With --live, reads the exporter's /api/state for the target and shows the step the
ladder would start at. Nothing is acted on.
Exit codes: 0 the alert would be handled, 3 it would be refused (another node, no target or no rule), 2 bad usage.`,
  sections: [remediatorSection],
  options: {
    label: {
      kind: 'list',
      doc: 'An alert label, k=v (repeat the flag; values may not contain commas here, use a k=v argument then).',
    },
    at: { kind: 'string', doc: 'Evaluate quiet hours at this time (ISO 8601) instead of now.' },
    live: {
      kind: 'bool',
      doc: "Also diagnose the target from the exporter's /api/state and show where the ladder starts.",
    },
    json: { kind: 'bool', doc: 'Print JSON instead of text.' },
  },
  async run(ctx) {
    const cfg = ctx.config.remediator as RemediatorConfig;
    const pairs = [...((ctx.options.get('label') as string[] | undefined) ?? []), ...ctx.positionals];
    const labels: Record<string, string> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) {
        ctx.stderr.write(`ollama-sentinel explain: "${p}" is not a label (write name=value)\n`);
        return EXIT_USAGE;
      }
      Object.defineProperty(labels, p.slice(0, eq), {
        value: p.slice(eq + 1).replace(/^"(.*)"$/, '$1'),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const atText = ctx.options.get('at') as string | undefined;
    const now = atText === undefined ? Date.now() : Date.parse(atText);
    if (Number.isNaN(now)) {
      ctx.stderr.write(
        `ollama-sentinel explain: --at ${JSON.stringify(atText)} is not a time (use e.g. 2026-03-29T01:30:00+01:00)\n`,
      );
      return EXIT_USAGE;
    }
    const windows = new Map(Object.entries(cfg.quiet_hours).map(([n, w]) => [n, new QuietWindow(n, w)]));
    try {
      const e = explainAlert(cfg, ctx.config.ollama, compileRules(cfg.rules), windows, labels, now);
      let live: Record<string, unknown> | undefined;
      if (ctx.options.has('live') && e.rule && !('refused' in e.target)) {
        const target = ctx.config.ollama.find((t) => t.name === (e.target as { name: string }).name)!;
        let observation = blankObservation(target.name);
        let source = 'exporter';
        try {
          const res = await fetch(`${cfg.exporter_url.replace(/\/+$/, '')}/api/state`, {
            signal: AbortSignal.timeout(cfg.exporter_timeout_ms),
          });
          const read = readExporterObservation(await res.json(), target.name);
          if ('problem' in read) source = read.problem;
          else observation = read.observation;
        } catch (err) {
          source = `exporter unavailable: ${(err as Error).message}`;
        }
        const diagnosis = diagnoseTarget(observation);
        live = {
          source,
          diagnosis,
          plan: planRemediation({ diagnosis, rule: e.rule, selector: target.container, ladderPos: 0 }),
        };
      }
      if (ctx.options.has('json'))
        ctx.stdout.write(`${JSON.stringify({ ...e, ...(live ? { live } : {}) }, null, 2)}\n`);
      else {
        ctx.stdout.write(formatExplanation(e));
        if (live) {
          const plan = live.plan as ReturnType<typeof planRemediation>;
          ctx.stdout.write(
            `live:     ${live.source}; diagnosis ${plan.condition}: ${plan.kind === 'act' ? `would start at ${plan.ladder[plan.start]} (${plan.detail})` : `${plan.kind} (${'reason' in plan ? plan.reason : ''}): ${plan.detail}`}\n`,
          );
        }
      }
      return e.rule && !('refused' in e.target) ? 0 : EXIT_NOT_HANDLED;
    } finally {
      for (const w of windows.values()) w.destroy();
    }
  },
};

export interface Explanation {
  readonly labels: Readonly<Record<string, string>>;
  readonly target:
    | { readonly name: string; readonly container?: ContainerSelector }
    | { readonly refused: RefusalReason; readonly detail: string };
  /** node_scope in words: which node's remediator acts on it (absent with node_scope off). */
  readonly node?: string;
  readonly rule?: RuleConfig;
  readonly dryRun?: boolean;
  readonly quiet?: {
    readonly window: string;
    readonly timezone: string;
    readonly quietNow: boolean;
    readonly until?: string | null;
    readonly mode: 'defer' | 'drop';
  };
  /** The rule's own ladder, or the default ladder per diagnosis suggestion. */
  readonly ladder?:
    | { readonly fixed: readonly ActionName[]; readonly start: string }
    | { readonly byDiagnosis: Readonly<Partial<Record<SuggestedAction, readonly ActionName[]>>> };
  /** What would happen to an alert with these labels right now, before any diagnosis. */
  readonly verdict: string;
}

/** Pure: which rule and target an alert with these labels meets, whether it is quiet now, and the ladder. */
export function explainAlert(
  cfg: RemediatorConfig,
  targets: readonly OllamaTargetConfig[],
  rules: readonly CompiledRule[],
  windows: ReadonlyMap<string, QuietWindow>,
  labels: Readonly<Record<string, string>>,
  now: number,
): Explanation {
  const node = explainNode(cfg, labels);
  if (node && 'refused' in node)
    return {
      labels,
      target: node,
      verdict: `refused (${node.refused}): recorded, audited and counted, never acted on here`,
    };
  const where = resolveTarget(
    labels,
    cfg.target_label,
    targets.map((t) => t.name),
    cfg.default_single_target,
  );
  const onNode = node ? { node: node.note } : {};
  if ('refused' in where)
    return {
      labels,
      target: where,
      ...onNode,
      verdict: `refused (${where.refused}): recorded and counted, never acted on`,
    };
  const t = targets.find((x) => x.name === where.target)!;
  const target = { name: t.name, ...(t.container ? { container: t.container } : {}) };
  const matched = matchRule(rules, labels);
  if (!matched)
    return { labels, target, ...onNode, verdict: 'refused (no_matching_rule): recorded and counted, never acted on' };
  const rule = matched.rule;
  const dryRun = rule.dry_run ?? cfg.dry_run;
  let quiet: Explanation['quiet'];
  if (rule.quiet) {
    const w = windows.get(rule.quiet)!;
    const quietNow = w.isQuiet(now);
    const end = quietNow ? w.endAfter(now) : undefined;
    quiet = {
      window: rule.quiet,
      timezone: w.config.timezone,
      quietNow,
      ...(quietNow ? { until: end === null ? null : new Date(end!).toISOString() } : {}),
      mode: rule.quiet_mode,
    };
  }
  const ladder: Explanation['ladder'] = rule.ladder
    ? { fixed: rule.ladder, start: rule.start }
    : {
        byDiagnosis: Object.fromEntries(
          (['restart', 'reload', 'kill_orphans', 'pull'] as const).map((s) => [s, defaultLadder(s, t.container)]),
        ),
      };
  let verdict = dryRun
    ? 'dry-run: the ladder would be logged, nothing acted on'
    : cfg.node_scope === 'fleet'
      ? `would act once the incident's firing alerts name ${cfg.fleet_min_nodes} nodes or the service has one task (no diagnosis: the nodes' alerts are the evidence)`
      : 'would diagnose the target, then act';
  if (quiet?.quietNow)
    verdict =
      quiet.mode === 'drop'
        ? `dropped: quiet window "${quiet.window}" is active`
        : `deferred until ${quiet.until ?? 'the search bound (the window never ends within 8 days)'} (quiet window "${quiet.window}"), then re-checked`;
  return { labels, target, ...onNode, rule, dryRun, ...(quiet ? { quiet } : {}), ladder, verdict };
}

/**
 * node_scope without asking Docker: a fixed node id is judged here; with auto, which node's remediator would take the
 * alert (each records the others' as other_node). Undefined with off.
 */
function explainNode(
  cfg: RemediatorConfig,
  labels: Readonly<Record<string, string>>,
): { note: string } | { refused: RefusalReason; detail: string } | undefined {
  const scope = parseNodeScope(cfg.node_scope);
  if (!scope || scope.kind === 'off') return undefined;
  const rules = { scope, label: cfg.node_label, required: cfg.require_node_label };
  const value = Object.hasOwn(labels, cfg.node_label) ? labels[cfg.node_label] : undefined;
  if (scope.kind === 'fleet') {
    if (!value)
      return {
        refused: 'no_node_label',
        detail: `no ${cfg.node_label} label: node_scope fleet counts the nodes of a fault, so an alert must name its node`,
      };
    return {
      note: `${cfg.node_label}=${JSON.stringify(value)}: node_scope fleet (on a Swarm manager only, else refused not_manager): acted on once the incident's firing alerts name ${cfg.fleet_min_nodes} nodes or the service has one task`,
    };
  }
  if (scope.kind === 'fixed') {
    const v = judgeAlertNode(labels, rules, { state: 'swarm', id: scope.id, detail: `node ${scope.id}` });
    if (!v.ok && 'refused' in v) return { refused: v.refused, detail: v.detail };
    return {
      note: `${value ? `${cfg.node_label}=${JSON.stringify(value)}: ` : ''}this node, ${scope.id} (node_scope)`,
    };
  }
  if (value)
    return {
      note: `acted on only by the remediator on Swarm node ${JSON.stringify(value)} (node_scope auto: the others record it as other_node); outside a Swarm by any`,
    };
  if (!cfg.require_node_label) return undefined; // a single host's alerts: nothing to say
  return {
    note: `no ${cfg.node_label} label: refused (no_node_label) by a remediator in a Swarm (require_node_label), accepted outside one`,
  };
}

/** Human-readable form, like `amtool config routes test` answers. */
export function formatExplanation(e: Explanation): string {
  const lines = [
    `labels:   ${
      Object.entries(e.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ') || '(none)'
    }`,
  ];
  if (e.node) lines.push(`node:     ${e.node}`);
  if ('refused' in e.target) lines.push(`target:   none: ${e.target.detail}`);
  else
    lines.push(
      `target:   ${e.target.name}${e.target.container ? ` (${describeSelector(e.target.container)})` : ' (no container declared: restarts impossible)'}`,
    );
  if (e.rule) {
    const m = [
      ...Object.entries(e.rule.match).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
      ...Object.entries(e.rule.match_re).map(([k, v]) => `${k}=~${JSON.stringify(v)}`),
    ];
    lines.push(`rule:     ${e.rule.name}${m.length ? ` (${m.join(', ')})` : ' (matches every alert)'}`);
    lines.push(`dry-run:  ${e.dryRun ? 'yes' : 'no'}`);
    lines.push(
      `quiet:    ${e.quiet ? `${e.quiet.window} (${e.quiet.timezone}, ${e.quiet.mode}): ${e.quiet.quietNow ? `quiet now, until ${e.quiet.until ?? 'beyond 8 days'}` : 'not quiet now'}` : 'none'}`,
    );
    if (e.ladder && 'fixed' in e.ladder)
      lines.push(
        `ladder:   ${e.ladder.fixed.join(' -> ')} (start: ${e.ladder.start === 'auto' ? 'the first step that fits the diagnosis' : e.ladder.start})`,
      );
    else if (e.ladder) {
      lines.push('ladder:   chosen by the diagnosis:');
      for (const [s, l] of Object.entries(e.ladder.byDiagnosis))
        lines.push(`            ${s.padEnd(13)} ${l.length ? l.join(' -> ') : '(nothing possible: escalate)'}`);
      lines.push(
        '            escalate      (GPU fault, partial offload, out of memory, busy) humans only, never a restart',
      );
    }
  } else if (!('refused' in e.target)) lines.push('rule:     none matches');
  lines.push(`verdict:  ${e.verdict}`);
  return `${lines.join('\n')}\n`;
}

function describeSelector(s: ContainerSelector): string {
  if (s.kind === 'compose') return `compose project ${s.project}, service ${s.service}`;
  if (s.kind === 'swarm')
    return `swarm service ${s.stack ? `${s.stack}_` : ''}${s.service}${s.stack_file ? `, stack file ${s.stack_file}` : ''}`;
  return `container ${s.name}`;
}
