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
