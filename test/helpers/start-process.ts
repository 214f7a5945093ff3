import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait-for.js';

export interface StartProcessOptions {
  cwd?: string;
  /** The child's whole environment; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Output kept per stream (the newest part); default 4 MiB. */
  maxBufferChars?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** How long to wait after `signal` before SIGKILL; default 5000 ms. */
  graceMs?: number;
}

export interface ProcessHandle {
  /** Also the process group id: the child leads its own group. Undefined when spawning failed. */
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** The command line, for messages. */
  readonly commandLine: string;
  readonly exited: Promise<ProcessExit>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they arrived, for failure messages. */
  output(): string;
  running(): boolean;
  /** Resolves with the output so far once it matches; rejects on timeout or when the process exits first. */
  waitForOutput(pattern: RegExp | string, timeoutMs: number): Promise<string>;
  /** Signals the whole process group, escalates to SIGKILL after the grace period, waits for the exit. */
  stop(options?: StopOptions): Promise<ProcessExit>;
}

const live = new Set<ProcessHandle>();
let exitHookInstalled = false;

/**
 * Starts a process in its own process group and collects its output. `stop()` ends the group, so
 * whatever the process forked goes too. If a test forgets to stop it, the group is killed when this
 * Node process exits, so nothing outlives the test file.
 */
export function startProcess(
  command: string,
  args: readonly string[] = [],
  options: StartProcessOptions = {},
): ProcessHandle {
  installExitHook();
  const maxChars = options.maxBufferChars ?? 4 * 1024 * 1024;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const buffers = { stdout: '', stderr: '', all: '' };
  const keep = (text: string) => (text.length > maxChars ? text.slice(text.length - maxChars) : text);
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffers.stdout = keep(buffers.stdout + chunk);
    buffers.all = keep(buffers.all + chunk);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    buffers.stderr = keep(buffers.stderr + chunk);
    buffers.all = keep(buffers.all + chunk);
  });
  if (options.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {}); // the child may exit without reading; EPIPE is not our failure
    child.stdin.end(options.input);
  }

  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitInfo = { code, signal })));
    child.once('error', (error) => {
      // 'error' without a pid means it never started; with a pid 'exit' still follows.
      if (child.pid === undefined) resolve((exitInfo = { code: null, signal: null, error }));
    });
  });
  const commandLine = [command, ...args].join(' ');

  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  };

  const handle: ProcessHandle = {
    pid: child.pid,
    child,
    commandLine,
    exited,
    stdout: () => buffers.stdout,
    stderr: () => buffers.stderr,
    output: () => buffers.all,
    running: () => exitInfo === undefined,
    async waitForOutput(pattern, timeoutMs) {
      const matches = (text: string) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      const withOutput = (message: string) => new Error(`${message}\n--- output ---\n${buffers.all.slice(-4000)}`);
      // A probe that throws only means "not yet" to waitFor, so an early exit is a result here.
      const outcome = await waitFor<{ text: string } | { exit: ProcessExit }>(
        () => {
          const exit = exitInfo;
          if (matches(buffers.all)) return { text: buffers.all };
          return exit === undefined ? undefined : { exit };
        },
        { timeoutMs, intervalMs: 25, what: `${String(pattern)} in the output of ${commandLine}` },
      ).catch((error: Error) => {
        throw withOutput(error.message);
      });
      if ('exit' in outcome) {
        throw withOutput(`${commandLine} exited (${describeExit(outcome.exit)}) before printing ${String(pattern)}`);
      }
      return outcome.text;
    },
    async stop(stopOptions = {}) {
      const { signal = 'SIGTERM', graceMs = 5000 } = stopOptions;
      if (exitInfo === undefined) {
        signalGroup(signal);
        const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Children that outlived the leader would keep the pipes (and this test) alive.
      signalGroup('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      live.delete(handle);
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => {
    if (child.pid === undefined) live.delete(handle);
  });
  return handle;
}

function describeExit(exit: ProcessExit): string {
  if (exit.error) return `failed to start: ${exit.error.message}`;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const handle of live) {
      if (handle.pid === undefined) continue;
      try {
        process.kill(-handle.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}
