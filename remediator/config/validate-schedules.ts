import type { ConfigIssues } from '../../shared/config/config-issues.js';
import type { SectionContext } from '../../shared/config/config-section.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';
import { normalizeModelName } from '../../shared/ollama/normalize-model-name.js';
import { cronProblem, isValidTimezone } from './cron-problem.js';

export interface ScheduleConfig {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly action: 'warm_up';
  /** Empty = every target. */
  readonly targets: readonly string[];
  /** Empty = the keep_warm models of each target. Normalised names. */
  readonly models: readonly string[];
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

/** `remediator.schedules`: timed jobs (today only warm_up), e.g. warm the models before office hours. */
export function validateSchedules(raw: unknown, ctx: SectionContext, issues: ConfigIssues): ScheduleConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.add(
      'remediator.schedules',
      'must be a list of jobs',
      'write `schedules:` followed by `- name: morning-warmup` items',
    );
    return [];
  }
  const seen = new Set<string>();
  const out: ScheduleConfig[] = [];
  raw.forEach((item, i) => {
    const path = `remediator.schedules[${i}]`;
    if (!isRecord(item)) {
      issues.add(
        path,
        'must be a mapping',
        'write `- {name: morning, cron: "0 50 7 * * 1-5", timezone: Europe/Berlin, action: warm_up}`',
      );
      return;
    }
    const before = issues.list.length;
    checkKeys(item, ['name', 'cron', 'timezone', 'action', 'targets', 'models'], path, issues);
    if (typeof item.name !== 'string' || !NAME_RE.test(item.name))
      issues.add(
        `${path}.name`,
        `${JSON.stringify(item.name)} is not a valid job name`,
        'use letters, digits, "_", "-" or "."',
      );
    else if (seen.has(item.name))
      issues.add(`${path}.name`, `duplicate job name "${item.name}"`, 'give every job its own name');
    else seen.add(item.name);
    const problem = cronProblem(item.cron);
    if (problem)
      issues.add(`${path}.cron`, problem, 'write 6 fields "sec min hour dom month dow", e.g. "0 50 7 * * 1-5"');
    const timezone = item.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isValidTimezone(timezone))
      issues.add(
        `${path}.timezone`,
        `${JSON.stringify(timezone)} is not an IANA time zone`,
        'write e.g. Europe/Berlin or UTC',
      );
    const action = item.action ?? 'warm_up';
    if (action !== 'warm_up')
      issues.add(
        `${path}.action`,
        `${JSON.stringify(action)} cannot be scheduled`,
        'only warm_up runs on a schedule; healing steps run from alerts',
      );
    const targets = nameList(
      item.targets,
      `${path}.targets`,
      issues,
      (t) => (ctx.targetNames.includes(t) ? t : undefined),
      `declared targets: ${ctx.targetNames.join(', ')}`,
    );
    const models = nameList(
      item.models,
      `${path}.models`,
      issues,
      (m) => {
        try {
          const n = normalizeModelName(m);
          return ctx.modelNames.includes(n) ? n : undefined;
        } catch {
          return undefined;
        }
      },
      `declared models: ${ctx.modelNames.join(', ') || '(none)'}`,
    );
    if (issues.list.length !== before) return;
    out.push({
      name: item.name as string,
      cron: item.cron as string,
      timezone: timezone as string,
      action: 'warm_up',
      targets,
      models,
    });
  });
  return out;
}

function nameList(
  raw: unknown,
  path: string,
  issues: ConfigIssues,
  resolve: (name: string) => string | undefined,
  known: string,
): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.add(path, 'must be a list of names', 'write e.g. `[main]`');
    return [];
  }
  const out: string[] = [];
  raw.forEach((name, j) => {
    const resolved = typeof name === 'string' ? resolve(name) : undefined;
    if (resolved === undefined) issues.add(`${path}[${j}]`, `unknown name ${JSON.stringify(name)}`, known);
    else out.push(resolved);
  });
  return out;
}
