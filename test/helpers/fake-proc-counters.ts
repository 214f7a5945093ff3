import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The work counters of one fake /proc entry, as the runners collector reads them. */
export interface FakeCounters {
  readonly ppid: number;
  readonly startTime: number;
  readonly comm?: string;
  /** utime + stime in clock ticks (written as utime; stime 0). */
  readonly cpuTicks: number;
  readonly rssKb: number;
  /** /proc/<pid>/io counters; omitted = no io file (as when access is denied). */
  readonly io?: { readonly rchar: number; readonly readBytes: number };
}

/**
 * Overwrites stat, status (VmRSS) and io of a process already added to a FakeProcRoot, laid out as Linux 6.x
 * writes them (52 stat fields; the io file's seven lines).
 */
export async function writeFakeCounters(root: string, pid: number, c: FakeCounters): Promise<void> {
  const dir = join(root, String(pid));
  const fields = new Array<string>(53).fill('0');
  fields[3] = 'S';
  fields[4] = String(c.ppid);
  fields[14] = String(c.cpuTicks);
  fields[22] = String(c.startTime);
  fields[24] = String(Math.ceil(c.rssKb / 4));
  const comm = c.comm ?? 'llama-server';
  await writeFile(join(dir, 'stat'), `${pid} (${comm}) ${fields.slice(3).join(' ')}\n`);
  await writeFile(
    join(dir, 'status'),
    `Name:\t${comm}\nPid:\t${pid}\nPPid:\t${c.ppid}\nNSpid:\t${pid}\t${pid % 100}\nVmRSS:\t${String(c.rssKb).padStart(8)} kB\n`,
  );
  if (c.io) {
    await writeFile(
      join(dir, 'io'),
      `rchar: ${c.io.rchar}\nwchar: 0\nsyscr: 1\nsyscw: 0\nread_bytes: ${c.io.readBytes}\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`,
    );
  }
}
