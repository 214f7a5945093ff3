import type { ConfigIssues } from '../../shared/config/config-issues.js';
import { parseDuration } from '../../shared/config/parse-duration.js';
import { checkKeys, isRecord } from '../../shared/config/yaml-shapes.js';

export interface NotifyConfig {
  readonly url: string;
  readonly bearer_token_file?: string;
  readonly timeout_ms: number;
}

/** `remediator.notify`: a webhook told about escalations, failed incidents and breaker trips. */
export function validateNotify(raw: unknown, issues: ConfigIssues): NotifyConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) {
    issues.add('remediator.notify', 'must be a mapping', 'write `notify: {url: https://chat.example/hook}`');
    return undefined;
  }
  checkKeys(raw, ['url', 'bearer_token_file', 'timeout'], 'remediator.notify', issues);
  const problem = raw.url === undefined ? 'is required' : urlProblem(raw.url);
  if (problem) issues.add('remediator.notify.url', problem, 'write the http(s) URL of the webhook');
  const timeout = parseDuration(raw.timeout ?? '5s');
  if (timeout === null || timeout < 100)
    issues.add(
      'remediator.notify.timeout',
      `${JSON.stringify(raw.timeout)} is not a duration of at least 100ms`,
      'write e.g. 5s',
    );
  if (raw.bearer_token_file !== undefined && typeof raw.bearer_token_file !== 'string')
    issues.add(
      'remediator.notify.bearer_token_file',
      'must be a file path',
      'write the path of a file holding the token',
    );
  if (problem) return undefined;
  return {
    url: raw.url as string,
    timeout_ms: timeout ?? 5000,
    ...(typeof raw.bearer_token_file === 'string' ? { bearer_token_file: raw.bearer_token_file } : {}),
  };
}

/** Why `value` is not an http(s) URL the remediator may call, or undefined when it is fine. */
export function urlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a URL, got ${JSON.stringify(value)}`;
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${value}" is not http or https`;
    if (u.username || u.password) return `"${value}" carries credentials in the URL; use bearer_token_file`;
    return undefined;
  } catch {
    return `"${value}" is not a URL`;
  }
}
