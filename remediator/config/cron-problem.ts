import cron from 'node-cron';

/**
 * Why a node-cron expression cannot drive a minute-granular window or job, or undefined when it can. Windows are
 * evaluated at second 0 of every minute, so the seconds field (6-field form) must include 0; a 5-field expression
 * gets node-cron's implicit "0".
 */
export function cronProblem(expression: unknown): string | undefined {
  if (typeof expression !== 'string' || expression.trim() === '')
    return `${JSON.stringify(expression)} is not a cron expression`;
  const detail = cron.validateDetailed(expression);
  if (!detail.valid)
    return `invalid cron expression "${expression}": ${detail.errors.map((e) => e.message).join('; ')}`;
  if (detail.fields && !detail.fields.second.includes(0)) {
    return `"${expression}" never matches at second 0: windows and jobs have minute granularity`;
  }
  return undefined;
}

/** True when Intl (and so node-cron) knows this IANA zone; "UTC" counts. */
export function isValidTimezone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
