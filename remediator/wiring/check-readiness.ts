import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Readiness } from '../ingress/create-remediator-app.js';

/** /readyz: the configuration loaded (we run), the data directory is writable, the Docker Engine answers. */
export async function checkReadiness(dataDir: string, pingDocker: (signal: AbortSignal) => Promise<unknown>, accepting: () => boolean): Promise<Readiness> {
  const checks: Record<string, string> = { config: 'ok' };
  checks.data_dir = await access(dataDir, constants.W_OK).then(() => 'ok', (err: NodeJS.ErrnoException) => `not writable (${err.code ?? err.message})`);
  checks.docker = await pingDocker(AbortSignal.timeout(3000)).then(() => 'ok', (err: Error) => `unreachable (${err.message})`);
  checks.accepting = accepting() ? 'ok' : 'shutting down';
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
