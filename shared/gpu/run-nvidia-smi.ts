import { statSync } from 'node:fs';
import { execa } from 'execa';
import { NvidiaSmiError } from './nvidia-smi-error.js';
import { splitCommand } from './split-command.js';

export interface NvidiaSmiResult {
  /** nvidia-smi prints its errors here too, not only on stderr. */
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface RunNvidiaSmiOptions {
  /** Aborts the run (SIGTERM, then SIGKILL after the grace). */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  readonly graceMs?: number;
}

/** How callers (and tests) inject a fake runner. */
export type RunNvidiaSmi = (command: string, args: readonly string[], opts: RunNvidiaSmiOptions) => Promise<NvidiaSmiResult>;

const DEFAULT_GRACE_MS = 1000;
// A full --query-gpu on 8 GPUs is a few KiB; anything near this is not nvidia-smi output.
const MAX_BUFFER = 8 * 1024 * 1024;

/**
 * Runs nvidia-smi once and returns its output and exit code whatever the code (callers classify). Throws
 * NvidiaSmiError only when there is no exit code to return: `spawn_failed` (ENOENT: not installed), `timeout`,
 * `aborted`, `killed`, `output_too_large`.
 *
 * The child leads its own process group and the whole group is signalled, so a wrapper script cannot leave a hung
 * nvidia-smi holding our pipes. A process stuck in the kernel (D state) survives even SIGKILL: then this promise
 * simply stays pending (nothing rejects later), and the caller's scheduler reports it as stuck.
 */
export const runNvidiaSmi: RunNvidiaSmi = async (command, args, opts) => {
  if (opts.signal.aborted) throw new NvidiaSmiError('aborted', 'nvidia-smi run aborted before it started');
  const [file, ...lead] = splitCommand(command, isFile);
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const subprocess = execa(file!, [...lead, ...args], {
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: graceMs,
    reject: false,
    stdin: 'ignore',
    maxBuffer: MAX_BUFFER,
    stripFinalNewline: false,
    detached: true,
    encoding: 'utf8',
  });

  const timers: NodeJS.Timeout[] = [];
  const killGroup = (sig: NodeJS.Signals) => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  const stopGroup = () => {
    killGroup('SIGTERM');
    timers.push(setTimeout(() => killGroup('SIGKILL'), graceMs));
  };
  timers.push(setTimeout(stopGroup, opts.timeoutMs));
  opts.signal.addEventListener('abort', stopGroup, { once: true });

  try {
    const r = await subprocess;
    const describe = `${[file, ...lead, ...args].join(' ')}`;
    if (r.timedOut) throw new NvidiaSmiError('timeout', `${describe} did not finish within ${opts.timeoutMs} ms`);
    if (r.isCanceled) throw new NvidiaSmiError('aborted', `${describe} was aborted`);
    if (r.isMaxBuffer) throw new NvidiaSmiError('output_too_large', `${describe} printed more than ${MAX_BUFFER} bytes`);
    if (r.exitCode === undefined) {
      if (r.signal !== undefined) throw new NvidiaSmiError('killed', `${describe} was killed by ${r.signal}`);
      throw new NvidiaSmiError('spawn_failed', `cannot run ${file}: ${r.code ?? ''} ${r.originalMessage ?? r.shortMessage ?? ''}`.trim(), {
        cause: r.cause,
      });
    }
    return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
  } finally {
    // Reached only once the child is gone: its group may still hold a hung grandchild, so the SIGKILL timer stays.
    opts.signal.removeEventListener('abort', stopGroup);
    timers[0] && clearTimeout(timers[0]);
  }
};

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
