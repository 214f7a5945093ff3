import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXEC_NAME_PRELUDE } from '../sim/exec-name-prelude.js';

/**
 * `ollama serve`: spawns the runners described in SENTINEL_RUNNERS (JSON list of {args, stubborn}) and stays up;
 * SIGTERM ends it and its runners. Unlike the simulator's, its runners do NOT exit when the server dies: that is
 * exactly the orphan kill_orphans must find.
 */
const SERVE = `${EXEC_NAME_PRELUDE}const { spawn } = require('node:child_process');
const exe = __dirname + '/ollama';
const specs = JSON.parse(process.env.SENTINEL_RUNNERS || '[]');
const kids = specs.map((s) => spawn(exe, s.args, { cwd: __dirname, stdio: 'ignore', env: { ...process.env, SENTINEL_STUBBORN: s.stubborn ? '1' : '' } }));
process.on('SIGTERM', () => { for (const k of kids) { try { k.kill('SIGKILL'); } catch {} } process.exit(0); });
setInterval(() => {}, 1 << 30);
`;

/** `ollama runner ...`: holds still; a stubborn one ignores SIGTERM (only SIGKILL ends it). */
const RUNNER = `${EXEC_NAME_PRELUDE}process.on('SIGTERM', () => { if (process.env.SENTINEL_STUBBORN !== '1') process.exit(0); });
setInterval(() => {}, 1 << 30);
`;

/**
 * A folder whose `ollama` is node hard-linked (so /proc/<pid>/exe ends in /ollama and comm is "ollama"); started
 * with cwd = the folder, `ollama serve` / `ollama runner ...` run the scripts above with Ollama's real argv shapes.
 * Works on the host and, bind-mounted, in the sim image (which has node's libraries).
 */
export function prepareFakeOllamaBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'ollama');
  if (!existsSync(exe)) {
    try {
      linkSync(process.execPath, exe);
    } catch {
      copyFileSync(process.execPath, exe);
      chmodSync(exe, 0o755);
    }
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  writeFileSync(join(dir, 'serve'), SERVE);
  writeFileSync(join(dir, 'runner'), RUNNER);
  return exe;
}

/** SENTINEL_RUNNERS for a server: model runners (optionally stubborn) and a discovery runner without --model. */
export function runnersEnv(runners: { model?: string; stubborn?: boolean }[]): string {
  let port = 40000;
  return `SENTINEL_RUNNERS=${JSON.stringify(
    runners.map((r) => ({
      args: r.model ? ['runner', '--model', r.model, '--port', String(++port)] : ['runner', '--port', String(++port)],
      stubborn: r.stubborn === true,
    })),
  )}`;
}
