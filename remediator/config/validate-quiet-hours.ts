import type { ConfigIssues } from '../../shared/config/config-issues.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';
import { cronProblem, isValidTimezone } from './cron-problem.js';

export interface QuietWindowConfig {
  /** IANA zone the cron expressions are read in. */
  readonly timezone: string;
  /** A minute is quiet when it matches any of these node-cron expressions. */
  readonly cron: readonly string[];
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

/** `remediator.quiet_hours`: name -> {timezone, cron: [...]}; a minute is quiet when any expression matches it. */
export function validateQuietHours(raw: unknown, issues: ConfigIssues): Record<string, QuietWindowConfig> {
  const out: Record<string, QuietWindowConfig> = {};
  if (raw === undefined || raw === null) return out;
  if (!isRecord(raw)) {
    issues.add(
      'remediator.quiet_hours',
      'must be a mapping of window name to {timezone, cron}',
      'write e.g. `night: {timezone: Europe/Berlin, cron: ["* * 22-23,0-5 * * *"]}`',
    );
    return out;
  }
  for (const [name, win] of Object.entries(raw)) {
    const path = `remediator.quiet_hours.${name}`;
    const before = issues.list.length;
    if (!NAME_RE.test(name))
      issues.add(path, 'is not a valid window name', 'use letters, digits, "_", "-" or ".", starting with a letter');
    if (!isRecord(win)) {
      issues.add(path, 'must be a mapping with timezone and cron', 'write `{timezone: UTC, cron: ["* * 0-5 * * *"]}`');
      continue;
    }
    checkKeys(win, ['timezone', 'cron'], path, issues);
    const timezone = win.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isValidTimezone(timezone)) {
      issues.add(
        `${path}.timezone`,
        `${JSON.stringify(timezone)} is not an IANA time zone`,
        'write e.g. Europe/Berlin, America/New_York or UTC',
      );
    }
    const list = typeof win.cron === 'string' ? [win.cron] : win.cron;
    if (!Array.isArray(list) || list.length === 0) {
      issues.add(
        `${path}.cron`,
        'must be a non-empty list of cron expressions',
        'write e.g. `cron: ["* * 22-23,0-5 * * *"]` (sec min hour dom month dow)',
      );
    } else {
      list.forEach((expr, j) => {
        const problem = cronProblem(expr);
        if (problem)
          issues.add(
            `${path}.cron[${j}]`,
            problem,
            'use 6 fields "sec min hour dom month dow", e.g. "* 30-59 22 * * 1-5"',
          );
      });
    }
    if (issues.list.length === before) out[name] = { timezone: timezone as string, cron: list as string[] };
  }
  return out;
}
