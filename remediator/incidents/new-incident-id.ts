import { randomBytes } from 'node:crypto';

/** Sortable, unique incident id: UTC time of opening plus randomness ("inc-20260329T013000Z-3f9a1c"). */
export function newIncidentId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `inc-${stamp}-${randomBytes(3).toString('hex')}`;
}
