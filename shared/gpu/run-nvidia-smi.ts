import { statSync } from 'node:fs';

export interface NvidiaSmiResult {
  /** nvidia-smi prints its errors here too, not only on stderr. */
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * A failed nvidia-smi run with a bounded `reason` (e.g. "timeout", "bad_field", "exit_255"), so callers can count
 * failures by reason without parsing messages. Lives in shared/ because the exporter and the remediator both run
 * nvidia-smi; the exporter turns it into its own CollectError.
 */
export class NvidiaSmiError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NvidiaSmiError';
  }
}

export interface RunNvidiaSmiOptions {
  /** Aborts the run (SIGTERM, then SIGKILL after the grace). */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  readonly graceMs?: number;
}

/** How callers (and tests) inject a fake runner. */
export type RunNvidiaSmi = (
  command: string,
  args: readonly string[],
  opts: RunNvidiaSmiOptions,
) => Promise<NvidiaSmiResult>;

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
  // Loaded on first use: execa costs ~15 MiB of RSS, and an exporter reading its GPUs through NVML never spawns.
  const { execa } = await import('execa');
  if (opts.signal.aborted) throw new NvidiaSmiError('aborted', 'nvidia-smi run aborted before it started');
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
    if (r.isMaxBuffer)
      throw new NvidiaSmiError('output_too_large', `${describe} printed more than ${MAX_BUFFER} bytes`);
    if (r.exitCode === undefined) {
      if (r.signal !== undefined) throw new NvidiaSmiError('killed', `${describe} was killed by ${r.signal}`);
      throw new NvidiaSmiError(
        'spawn_failed',
        `cannot run ${file}: ${r.code ?? ''} ${r.originalMessage ?? r.shortMessage ?? ''}`.trim(),
        {
          cause: r.cause,
        },
      );
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

/**
 * The configured nvidia-smi command -> [file, ...leading args]. A value naming an existing file is used whole, so a
 * path with spaces needs no quoting; otherwise it is split like a shell word list (quotes and backslashes, no
 * expansion) so wrappers such as `sudo -n nvidia-smi` or `"/opt/my tools/smi" --id=0` work. No shell is involved.
 */
export function splitCommand(command: string, isFile: (path: string) => boolean): string[] {
  if (isFile(command)) return [command];
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in nvidia-smi command: ${command}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('empty nvidia-smi command');
  return words;
}

/** A run that exited non-zero (or printed nonsense) -> an NvidiaSmiError with a bounded reason and the text it printed. */
export function nvidiaSmiFailure(result: NvidiaSmiResult, what: string): NvidiaSmiError {
  const text = `${result.stdout}\n${result.stderr}`.trim();
  const reason = classifyNvidiaSmiFailure(result.exitCode, text);
  const shown = text.length > 500 ? `${text.slice(0, 500)}...` : text;
  return new NvidiaSmiError(
    reason,
    `nvidia-smi ${what} exited ${result.exitCode} (${reason}): ${shown || '(no output)'}`,
  );
}

/**
 * A failed nvidia-smi run -> one bounded reason. nvidia-smi prints its errors on STDOUT, so the message is read
 * from both streams. Messages are checked first (they are more specific than exit codes, and wrappers such as
 * sudo or a container runtime may change the code); then nvidia-smi's documented exit codes, which are NVML
 * return codes; anything else becomes `exit_<code>` (0..255, so still bounded).
 */
const BY_MESSAGE: readonly (readonly [RegExp, string])[] = [
  [/is not a valid field to query/i, 'bad_field'],
  [/Driver\/library version mismatch|Mismatch in versions between nvidia-smi and NVML/i, 'version_mismatch'],
  [
    /couldn't find libnvidia-ml\.so|NVML Shared Library Not Found|libnvidia-ml\.so[^\n]*(cannot open|not found|No such file)/i,
    'nvml_library_missing',
  ],
  [/GPU is lost|fallen off the bus/i, 'gpu_lost'],
  [/couldn't communicate with the NVIDIA driver|Driver Not Loaded/i, 'driver_not_loaded'],
  [/Failed to initialize NVML/i, 'nvml_init_failed'],
  [/No devices were found/i, 'no_devices'],
  [/Insufficient Permissions|No permission/i, 'no_permission'],
  [/Unable to determine the device handle/i, 'device_unreachable'],
];

// nvidia-smi(1) RETURN VALUE section; 18 = NVML_ERROR_LIB_RM_VERSION_MISMATCH, seen in the wild (gputil#55).
const BY_EXIT_CODE: ReadonlyMap<number, string> = new Map([
  [2, 'invalid_argument'],
  [3, 'not_supported'],
  [4, 'no_permission'],
  [6, 'not_found'],
  [8, 'insufficient_power'],
  [9, 'driver_not_loaded'],
  [10, 'irq_issue'],
  [12, 'nvml_library_missing'],
  [13, 'function_not_found'],
  [14, 'inforom_corrupted'],
  [15, 'gpu_lost'],
  [18, 'version_mismatch'],
]);

export function classifyNvidiaSmiFailure(exitCode: number, output: string): string {
  for (const [pattern, reason] of BY_MESSAGE) if (pattern.test(output)) return reason;
  return BY_EXIT_CODE.get(exitCode) ?? `exit_${exitCode}`;
}
