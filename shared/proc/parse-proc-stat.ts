export interface ProcStat {
  readonly pid: number;
  /** Executable name as the kernel keeps it: at most 15 bytes, may hold spaces and parentheses. */
  readonly comm: string;
  /** One-letter state (R, S, D, Z, ...). */
  readonly state: string;
  readonly ppid: number;
  /** Field 22: start time in clock ticks after boot. Together with the PID it names one process for good. */
  readonly startTime: number;
  /** Fields 14 and 15: CPU time in user and kernel mode, in clock ticks (USER_HZ), all threads together. */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Field 24: resident set size in pages (not bytes: the page size is the kernel's, 4 KiB on most hosts). */
  readonly rssPages: number;
}

/**
 * Clock ticks per second of the tick fields above: USER_HZ, which the kernel ABI fixes at 100 on every architecture
 * Ollama ships for (x86-64, arm64), whatever CONFIG_HZ is; `getconf CLK_TCK` prints it.
 */
export const USER_HZ = 100;

/**
 * Parses `/proc/<pid>/stat`. comm sits in parentheses and may itself contain ") (", so the fields after it are found
 * from the LAST ')' (what procps does); field numbers below are proc(5)'s, 1-based.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`unparsable /proc stat: ${JSON.stringify(text.slice(0, 80))}`);
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = rest[0] ?? '';
  const ppid = Number(rest[4 - 3]);
  const startTime = Number(rest[22 - 3]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(startTime) || state === '') {
    throw new Error(`unparsable /proc stat: ${JSON.stringify(text.slice(0, 80))}`);
  }
  // Present since Linux 2.6; a zombie shows zeros. Kept as numbers, NaN never: an odd field reads as 0.
  const count = (field: number) => {
    const n = Number(rest[field - 3]);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  };
  return {
    pid,
    comm,
    state,
    ppid,
    startTime,
    utimeTicks: count(14),
    stimeTicks: count(15),
    rssPages: count(24),
  };
}
