import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { repoPath } from './repo-path.js';

const SOURCE = repoPath('test', 'sim', 'fake-nvml', 'fake-nvml.c');
/** Built into dist/ (never committed): the same folder layout as the source. */
export const FAKE_NVML_LIBRARY = repoPath('dist', 'test', 'sim', 'fake-nvml', 'libnvidia-ml.so.1');

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * The fake libnvidia-ml.so.1, compiled with the machine's `cc` when missing or older than its source
 * (test/setup/ensure-packages.sh installs gcc). Built under a private name and renamed, so test files that
 * build it at the same time never load a half-written library. Returns its path.
 */
export function buildFakeNvml(): string {
  const built = mtime(FAKE_NVML_LIBRARY);
  if (built !== undefined && built >= (mtime(SOURCE) ?? 0)) return FAKE_NVML_LIBRARY;
  mkdirSync(dirname(FAKE_NVML_LIBRARY), { recursive: true });
  const tmp = `${FAKE_NVML_LIBRARY}.${process.pid}.tmp`;
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', tmp, SOURCE], { stdio: 'pipe' });
  renameSync(tmp, FAKE_NVML_LIBRARY);
  return FAKE_NVML_LIBRARY;
}
