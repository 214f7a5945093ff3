import { fileURLToPath } from 'node:url';
import { startProcess, type ProcessHandle } from './start-process.js';

export interface RemediatorProcess {
  readonly handle: ProcessHandle;
  readonly url: string;
}

/** Starts the remediator command on `configPath` and waits for its "listening on <url>" line. */
export async function startRemediatorProcess(
  configPath: string,
  env: NodeJS.ProcessEnv = {},
): Promise<RemediatorProcess> {
  const main = fileURLToPath(new URL('./remediator-main.js', import.meta.url));
  const handle = startProcess(process.execPath, [main, '--config', configPath], { env: { ...process.env, ...env } });
  try {
    const out = await handle.waitForOutput(/listening on (http\S+) \(webhook/, 30_000);
    return { handle, url: out.match(/listening on (http\S+) \(webhook/)![1]! };
  } catch (err) {
    await handle.stop({ graceMs: 1000 });
    throw err;
  }
}
