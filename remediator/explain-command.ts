import { EXIT_USAGE, type CommandDef } from '../shared/cli/command-def.js';
import { diagnoseTarget } from '../shared/diagnosis/diagnose-target.js';
import { blankObservation, readExporterObservation } from './engine/read-exporter-observation.js';
import { explainAlert, formatExplanation } from './operators/explain-alert.js';
import { compileRules } from './policy/compiled-rule.js';
import { planRemediation } from './policy/plan-remediation.js';
import { QuietWindow } from './quiet/quiet-window.js';
import { remediatorSection, type RemediatorConfig } from './remediator-section.js';

/** Exit code when the labels meet no target or no rule (like amtool's route test failing). */
export const EXIT_NOT_HANDLED = 3;

export const command: CommandDef = {
  name: 'explain',
  summary: 'Show what the remediator would do with an alert: matched rule, target, quiet status and ladder.',
  description: `Give the alert's labels as --label k=v (repeatable) or as k=v arguments. Prints the target (from the
remediator.target_label label), the first matching rule, whether its quiet window is active now (or at --at TIME),
dry-run, and the ladder. With --live, reads the exporter's /api/state for the target and shows the step the
ladder would start at. Nothing is acted on.
Exit codes: 0 the alert would be handled, 3 it would be refused (no target or no rule), 2 bad usage.`,
  sections: [remediatorSection],
  options: {
    label: { kind: 'list', doc: 'An alert label, k=v (repeat the flag; values may not contain commas here, use a k=v argument then).' },
    at: { kind: 'string', doc: 'Evaluate quiet hours at this time (ISO 8601) instead of now.' },
    live: { kind: 'bool', doc: "Also diagnose the target from the exporter's /api/state and show where the ladder starts." },
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
      Object.defineProperty(labels, p.slice(0, eq), { value: p.slice(eq + 1).replace(/^"(.*)"$/, '$1'), enumerable: true, writable: true, configurable: true });
    }
    const atText = ctx.options.get('at') as string | undefined;
    const now = atText === undefined ? Date.now() : Date.parse(atText);
    if (Number.isNaN(now)) {
      ctx.stderr.write(`ollama-sentinel explain: --at ${JSON.stringify(atText)} is not a time (use e.g. 2026-03-29T01:30:00+01:00)\n`);
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
          const res = await fetch(`${cfg.exporter_url.replace(/\/+$/, '')}/api/state`, { signal: AbortSignal.timeout(cfg.exporter_timeout_ms) });
          const read = readExporterObservation(await res.json(), target.name);
          if ('problem' in read) source = read.problem;
          else observation = read.observation;
        } catch (err) {
          source = `exporter unavailable: ${(err as Error).message}`;
        }
        const diagnosis = diagnoseTarget(observation);
        live = { source, diagnosis, plan: planRemediation({ diagnosis, rule: e.rule, selector: target.container, ladderPos: 0 }) };
      }
      if (ctx.options.has('json')) ctx.stdout.write(`${JSON.stringify({ ...e, ...(live ? { live } : {}) }, null, 2)}\n`);
      else {
        ctx.stdout.write(formatExplanation(e));
        if (live) {
          const plan = live.plan as ReturnType<typeof planRemediation>;
          ctx.stdout.write(`live:     ${live.source}; diagnosis ${plan.condition}: ${plan.kind === 'act' ? `would start at ${plan.ladder[plan.start]} (${plan.detail})` : `${plan.kind} (${'reason' in plan ? plan.reason : ''}): ${plan.detail}`}\n`);
        }
      }
      return e.rule && !('refused' in e.target) ? 0 : EXIT_NOT_HANDLED;
    } finally {
      for (const w of windows.values()) w.destroy();
    }
  },
};
