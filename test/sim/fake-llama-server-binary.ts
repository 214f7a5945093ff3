/**
 * Where the compiled fake llama-server (fake-runner/fake-llama-server.c) is. Never committed as a binary: in a checkout
 * it is compiled with the machine's `cc` into dist/test/sim/fake-runner/ when missing or older than its source; in
 * the simulator image (no sources there) test/setup/test-env.sh puts a static build in the image and names it with
 * SENTINEL_FAKE_LLAMA_SERVER.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_LLAMA_SERVER_ENV = 'SENTINEL_FAKE_LLAMA_SERVER';

const HERE = dirname(fileURLToPath(import.meta.url)); // <repo>/dist/test/sim when compiled
export const FAKE_LLAMA_SERVER_BUILT = join(HERE, 'fake-runner', 'fake-llama-server');
export const FAKE_LLAMA_SERVER_SOURCE = join(
  HERE,
  '..',
  '..',
  '..',
  'test',
  'sim',
  'fake-runner',
  'fake-llama-server.c',
);

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Compiles the source into `out` (under a private name, then renamed: concurrent builders never run a half file). */
export function compileFakeLlamaServer(out: string, opts: { static?: boolean } = {}): string {
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const flags = ['-O2', '-Wall', '-Werror', ...(opts.static ? ['-static'] : []), '-o', tmp, FAKE_LLAMA_SERVER_SOURCE];
  execFileSync('cc', flags, { stdio: 'pipe' });
  renameSync(tmp, out);
  return out;
}

/** The fake llama-server binary to install as `<dir>/lib/ollama/llama-server`; builds it when needed. */
export function fakeLlamaServerBinary(): string {
  const fromEnv = process.env[FAKE_LLAMA_SERVER_ENV];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${FAKE_LLAMA_SERVER_ENV}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const built = mtime(FAKE_LLAMA_SERVER_BUILT);
  const source = mtime(FAKE_LLAMA_SERVER_SOURCE);
  if (built !== undefined && (source === undefined || built >= source)) return FAKE_LLAMA_SERVER_BUILT;
  if (source === undefined)
    throw new Error(`fake llama-server missing: ${FAKE_LLAMA_SERVER_BUILT} (set ${FAKE_LLAMA_SERVER_ENV})`);
  return compileFakeLlamaServer(FAKE_LLAMA_SERVER_BUILT);
}
