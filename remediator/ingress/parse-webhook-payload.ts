import { isRecord } from '../../shared/config/yaml-shapes.js';
import type { PayloadLimits, WebhookAlert, WebhookPayload } from './webhook-payload.js';

export type PayloadResult =
  | { readonly ok: true; readonly payload: WebhookPayload }
  /** 413 when the payload is well-formed but carries more than the flood bound. */
  | { readonly ok: false; readonly status: 400 | 413; readonly field: string; readonly problem: string };

const FINGERPRINT_RE = /^[A-Za-z0-9:_.-]{1,128}$/;

/**
 * Validates the fields the remediator relies on and ignores every other one (notification_reason, routeLabels,
 * future additions), so a newer Alertmanager never breaks ingestion. Errors name the offending field.
 */
export function parseWebhookPayload(body: unknown, limits: PayloadLimits): PayloadResult {
  const bad = (field: string, problem: string): PayloadResult => ({ ok: false, status: 400, field, problem });
  if (!isRecord(body)) return bad('(body)', 'expected a JSON object (an Alertmanager webhook payload)');
  if (body.version !== '4')
    return bad('version', `expected "4" (Alertmanager webhook payload version), got ${shown(body.version)}`);
  const receiver = optionalText(body.receiver);
  if (receiver === null) return bad('receiver', `expected a string, got ${shown(body.receiver)}`);
  const groupKey = optionalText(body.groupKey);
  if (groupKey === null) return bad('groupKey', `expected a string, got ${shown(body.groupKey)}`);
  const externalURL = optionalText(body.externalURL);
  if (externalURL === null) return bad('externalURL', `expected a string, got ${shown(body.externalURL)}`);
  if (body.status !== undefined && body.status !== 'firing' && body.status !== 'resolved')
    return bad('status', `expected "firing" or "resolved", got ${shown(body.status)}`);
  const truncated = body.truncatedAlerts ?? 0;
  if (typeof truncated !== 'number' || !Number.isInteger(truncated) || truncated < 0)
    return bad('truncatedAlerts', `expected a whole number, got ${shown(truncated)}`);
  if (!Array.isArray(body.alerts)) return bad('alerts', `expected a list of alerts, got ${shown(body.alerts)}`);
  if (body.alerts.length > limits.maxAlerts) {
    return {
      ok: false,
      status: 413,
      field: 'alerts',
      problem: `${body.alerts.length} alerts in one request; at most ${limits.maxAlerts} are accepted (set max_alerts in webhook_config)`,
    };
  }
  const alerts: WebhookAlert[] = [];
  for (let i = 0; i < body.alerts.length; i++) {
    const r = parseAlert(body.alerts[i], `alerts[${i}]`, limits);
    if ('problem' in r) return bad(r.field, r.problem);
    alerts.push(r);
  }
  const status =
    body.status === 'resolved' || body.status === 'firing'
      ? body.status
      : alerts.some((a) => a.status === 'firing')
        ? 'firing'
        : 'resolved';
  return {
    ok: true,
    payload: {
      version: '4',
      receiver: receiver ?? '',
      status,
      groupKey: groupKey ?? '',
      truncatedAlerts: truncated,
      externalURL: externalURL ?? '',
      alerts,
    },
  };
}

function parseAlert(
  raw: unknown,
  path: string,
  limits: PayloadLimits,
): WebhookAlert | { field: string; problem: string } {
  const bad = (field: string, problem: string) => ({ field: `${path}.${field}`, problem });
  if (!isRecord(raw)) return { field: path, problem: `expected an alert object, got ${shown(raw)}` };
  if (raw.status !== 'firing' && raw.status !== 'resolved')
    return bad('status', `expected "firing" or "resolved", got ${shown(raw.status)}`);
  if (typeof raw.fingerprint !== 'string' || !FINGERPRINT_RE.test(raw.fingerprint))
    return bad('fingerprint', `expected Alertmanager's fingerprint (hex string), got ${shown(raw.fingerprint)}`);
  const labels = stringMap(raw.labels, limits);
  if (typeof labels === 'string') return bad('labels', labels);
  const annotations =
    raw.annotations === undefined ? {} : stringMap(raw.annotations, { ...limits, maxLabelChars: 65536 });
  if (typeof annotations === 'string') return bad('annotations', annotations);
  for (const field of ['startsAt', 'endsAt'] as const) {
    const v = raw[field];
    if (typeof v !== 'string' || !isRfc3339(v)) return bad(field, `expected an RFC 3339 time, got ${shown(v)}`);
  }
  const generatorURL = optionalText(raw.generatorURL);
  if (generatorURL === null) return bad('generatorURL', `expected a string, got ${shown(raw.generatorURL)}`);
  return {
    status: raw.status,
    fingerprint: raw.fingerprint,
    labels,
    annotations,
    startsAt: raw.startsAt as string,
    endsAt: raw.endsAt as string,
    generatorURL: generatorURL ?? '',
  };
}

/** A map of strings, built with own data properties only (a "__proto__" label stays a label). */
function stringMap(raw: unknown, limits: PayloadLimits): Record<string, string> | string {
  if (!isRecord(raw)) return `expected an object of strings, got ${shown(raw)}`;
  const entries = Object.entries(raw);
  if (entries.length > limits.maxLabels) return `${entries.length} entries; at most ${limits.maxLabels} are accepted`;
  for (const [k, v] of entries) {
    if (typeof v !== 'string') return `"${k.slice(0, 64)}": expected a string, got ${shown(v)}`;
    if (k.length === 0 || k.length > 1024) return `a name of ${k.length} characters (1 to 1024 allowed)`;
    if (v.length > limits.maxLabelChars)
      return `"${k.slice(0, 64)}": value of ${v.length} characters (at most ${limits.maxLabelChars})`;
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** undefined when absent, null when present but not a string. */
function optionalText(v: unknown): string | undefined | null {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(v) ?? typeof v; // JSON values only; undefined for a function or symbol
  } catch {
    text = Array.isArray(v) ? 'a list' : `a value of type ${typeof v}`; // nested too deep to print
  }
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:Z|[+-](\d\d):(\d\d))$/;

/** An RFC 3339 time that exists: Date.parse rolls 2026-02-30 over to March 2nd instead of refusing it. */
export function isRfc3339(v: string): boolean {
  const m = RFC3339.exec(v);
  if (!m) return false;
  const n = (group: number) => Number(m[group] ?? 0); // the offset's groups are absent for Z
  const [year, month, day] = [n(1), n(2), n(3)];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day >= 1 && day <= days && n(4) <= 23 && n(5) <= 59 && n(6) <= 59 && n(7) <= 23 && n(8) <= 59;
}

/** Nesting a webhook never needs (it has 4 levels); deeper input is refused before JSON.parse builds it. */
export const MAX_JSON_DEPTH = 32;

/** JSON text -> value, or why not (not JSON, nested deeper than MAX_JSON_DEPTH): both are the sender's error (400). */
export function parseJsonBody(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH)
        return { ok: false, problem: `body is nested more than ${MAX_JSON_DEPTH} levels deep` };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: `body is not JSON: ${(err as Error).message}` };
  }
}
