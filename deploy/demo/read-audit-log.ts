import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_FILE, type AuditEntry } from '../../remediator/state/audit-log.js';

/** One audit line with its timestamp and the raw text (printed as-is by the demo). */
export type AuditRecord = AuditEntry & { readonly ts: string; readonly raw: string };

/**
 * Every complete line of the remediator's audit log in `dataDir`; [] while it does not exist yet. A line still being
 * written (no newline yet) is left for the next read.
 */
export async function readAuditLog(dataDir: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, AUDIT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline: empty, or a line not yet complete
  return lines.filter((l) => l.trim() !== '').map((raw) => ({ ...(JSON.parse(raw) as AuditEntry & { ts: string }), raw }));
}
