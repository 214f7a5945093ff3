import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';
import { EXEC_NAME_PRELUDE } from '../sim/exec-name-prelude.js';

/**
 * Real processes shaped like an Ollama server with its children, for /proc-level tests: `<dir>/ollama` and
 * `<dir>/lib/ollama/llama-server` are hard links to (or copies of) node, so /proc/<pid>/exe names those paths. node
 * runs the first non-option word as a script relative to cwd (= dir), which gives the real argv for
 * `ollama serve|runner|gpu-discover ...`; a llama-server form needs its script word first (`llama-server child ...`),
 * which changes nothing a classification reads (the executable path and whether --model is there).
 */
export interface FakeOllamaTree {
  readonly dir: string;
  /** The fake `ollama serve` (parent of every child). */
  readonly server: ChildProcess;
  /** PID of each child, by the name it was given. */
  readonly pids: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

// Every child sleeps, exits on SIGTERM and when its parent goes away: it can never outlive the test.
const CHILD = `${EXEC_NAME_PRELUDE}const parent = process.ppid;
process.on('SIGTERM', () => process.exit(0));
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 100);
`;

// The server spawns its children from the JSON in argv's last word and prints "name pid" for each.
const SERVE = `${EXEC_NAME_PRELUDE}const { spawn } = require('node:child_process');
const children = JSON.parse(Buffer.from(process.env.FAKE_CHILDREN, 'base64').toString());
const kids = [];
for (const [name, file, args] of children) {
  const c = spawn(file, args, { cwd: __dirname, stdio: 'ignore' });
  kids.push(c);
  process.stdout.write(name + ' ' + c.pid + '\\n');
}
const stop = () => { for (const k of kids) k.kill('SIGTERM'); process.exit(0); };
process.on('SIGTERM', stop);
setInterval(() => {}, 1000);
`;

function linkNode(to: string): void {
  try {
    linkSync(process.execPath, to);
  } catch {
    copyFileSync(process.execPath, to); // another filesystem
  }
  chmodSync(to, 0o755);
}

/** Starts `<dir>/ollama serve` with the given children: [name, 'ollama' | 'llama-server', args]. */
export async function startFakeOllamaTree(
  children: readonly (readonly [name: string, binary: 'ollama' | 'llama-server', args: readonly string[]])[],
): Promise<FakeOllamaTree> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-ollama-tree-'));
  mkdirSync(join(dir, 'lib', 'ollama'), { recursive: true });
  const ollama = join(dir, 'ollama');
  const llama = join(dir, 'lib', 'ollama', 'llama-server');
  linkNode(ollama);
  linkNode(llama);
  for (const script of ['runner', 'gpu-discover', 'child']) writeFileSync(join(dir, script), CHILD);
  writeFileSync(join(dir, 'serve'), SERVE);
  const spec = children.map(([name, binary, args]) => [
    name,
    binary === 'ollama' ? ollama : llama,
    binary === 'ollama' ? args : ['child', ...args],
  ]);
  const server = spawn(ollama, ['serve'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FAKE_CHILDREN: Buffer.from(JSON.stringify(spec)).toString('base64') },
  });
  let out = '';
  server.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pids = await waitFor(
      async () => {
        const lines = out.split('\n').filter((l) => l !== '');
        return lines.length === children.length
          ? new Map(lines.map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])] as const))
          : undefined;
      },
      { timeoutMs: 10_000, what: 'fake ollama children started' },
    );
    return { dir, server, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
