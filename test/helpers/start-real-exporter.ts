import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ProcessHandle } from './start-process.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = join(REPO, 'dist/shared/cli/main.js');
export const FAKE_NVIDIA_SMI = join(REPO, 'test/sim/bin/nvidia-smi');

export interface RealExporter {
  readonly proc: ProcessHandle;
  /** Base URL the process printed once listening (http or https). */
  readonly url: string;
}

/**
 * `ollama-sentinel exporter --config <dir>/config.yaml` as a real process (its own process group; stop() ends it),
 * with the fake nvidia-smi reading `stateFile`. Resolves once it printed where it listens (listen on port 0).
 */
export async function startRealExporter(
  dir: string,
  configYaml: string,
  stateFile: string,
  extraArgs: readonly string[] = [],
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<RealExporter> {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, configYaml);
  const proc = startProcess(process.execPath, [MAIN, 'exporter', '--config', file, ...extraArgs], {
    env: {
      ...process.env,
      SENTINEL_FAKE_GPU_STATE: stateFile,
      SENTINEL_FAKE_NODE: process.execPath,
      SENTINEL_LOG_LEVEL: 'info',
      ...extraEnv,
    },
  });
  try {
    const out = await proc.waitForOutput(/exporter listening on (https?:\/\/\S+)/, 20_000);
    const url = /exporter listening on (https?:\/\/\S+)/.exec(out)![1]!;
    return { proc, url };
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' });
    throw err;
  }
}
