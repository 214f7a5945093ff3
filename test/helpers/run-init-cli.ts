import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ProcessHandle } from './start-process.js';

const MAIN = fileURLToPath(new URL('../../shared/cli/main.js', import.meta.url));

/** Fast defaults for tests: short waits and backoff, progress lines rare enough to keep the output small. */
export const FAST_INIT = {
  wait_timeout: '5s',
  stall_timeout: '5s',
  pull_retries: 2,
  retry_backoff: '50ms',
  retry_backoff_max: '200ms',
  verify_timeout: '10s',
  progress_interval: '10s',
};

export interface InitCli {
  readonly process: ProcessHandle;
  /** Resolves with the exit code; stops the process group and removes the temp dir. */
  finished(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Runs the real binary (`node dist/shared/cli/main.js init --config FILE ...`) with `config` written as the file
 * (JSON is YAML). The environment is cleared of SENTINEL_ and OLLAMA_ variables so the host cannot leak in.
 */
export function runInitCli(config: Record<string, unknown>, args: readonly string[] = []): InitCli {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-init-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SENTINEL_') && !k.startsWith('OLLAMA_')),
  );
  const child = startProcess(process.execPath, [MAIN, 'init', '--config', file, ...args], { env });
  let cleaned = false;
  const cleanup = async () => {
    await child.stop({ graceMs: 2000 });
    if (!cleaned) rmSync(dir, { recursive: true, force: true });
    cleaned = true;
  };
  return {
    process: child,
    async finished() {
      const exit = await child.exited;
      await cleanup();
      return exit.code;
    },
    stop: cleanup,
  };
}

/** A config with one target named "main" and the given models. */
export function initConfig(
  url: string,
  models: unknown[],
  init: Record<string, unknown> = {},
): Record<string, unknown> {
  return { log: { level: 'warn' }, ollama: [{ name: 'main', url }], models, init: { ...FAST_INIT, ...init } };
}
