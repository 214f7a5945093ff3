/**
 * Entry point of the fake `nvidia-smi` (launched by test/sim/bin/nvidia-smi).
 * Env: SENTINEL_FAKE_GPU_STATE = state file (missing/unset -> one idle H100);
 *      SENTINEL_FAKE_SMI_CONTEXT=container -> honour the sim's "GPU lost inside the container" flag;
 *      SENTINEL_FAKE_SMI_FIXTURES = folder with the help-query captures (default: the repo's copy).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { defaultFixturesDir, fakeNvidiaSmi } from './fake-nvidia-smi.js';
import { defaultH100State, readGpuState, type GpuState } from './gpu-state.js';

/** A hung fake must not outlive its test: it ends when the state file is deleted, or after this long. */
const HANG_SAFETY_MS = 120_000;

// Runs detached, holding our stdout/stderr: the caller keeps waiting for EOF after killing us, as with a
// process stuck in the kernel. It ends by itself (deadline), when the stuck fault is cleared or the file goes.
const STUCK_GRANDCHILD = `
const fs = require('node:fs');
const [file, ms] = [process.argv[1], Number(process.argv[2])];
const end = Date.now() + ms;
setInterval(() => {
  let stuck = false;
  try { stuck = /^fault (gpu|apps|list|all) stuck/m.test(fs.readFileSync(file, 'utf8')); } catch {}
  if (!stuck || Date.now() > end) process.exit(0);
}, 100);
`;

function loadState(file: string | undefined): GpuState {
  if (file === undefined || file === '' || !existsSync(file)) return defaultH100State();
  return readGpuState(file);
}

function hangUntilKilled(file: string | undefined): void {
  const started = Date.now();
  setInterval(() => {
    if (Date.now() - started > HANG_SAFETY_MS || (file !== undefined && file !== '' && !existsSync(file)))
      process.exit(1);
  }, 250);
}

async function main(): Promise<void> {
  const env = process.env;
  const file = env.SENTINEL_FAKE_GPU_STATE;
  const res = fakeNvidiaSmi(process.argv.slice(2), loadState(file), {
    fixturesDir: env.SENTINEL_FAKE_SMI_FIXTURES || defaultFixturesDir(),
    inContainer: env.SENTINEL_FAKE_SMI_CONTEXT === 'container',
    now: new Date(),
  });
  if (res.delayMs > 0) await new Promise((r) => setTimeout(r, res.delayMs));
  if (res.stuckMs > 0 && file) {
    const child = spawn(process.execPath, ['-e', STUCK_GRANDCHILD, file, String(res.stuckMs)], {
      detached: true,
      stdio: ['ignore', 1, 2],
    });
    child.unref();
    hangUntilKilled(file);
    return;
  }
  if (res.hang) {
    hangUntilKilled(file);
    return;
  }
  process.stdout.write(res.stdout);
  if (res.stderr) process.stderr.write(res.stderr);
  process.exitCode = res.exitCode;
}

main().catch((err: unknown) => {
  process.stdout.write(`fake nvidia-smi: ${(err as Error).message}\n`);
  process.exitCode = 255;
});
