import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeProcess {
  pid: number;
  ppid: number;
  argv: string[];
  /** Target of the exe link; omitted = no link. */
  exe?: string;
  /** comm defaults to basename(exe or argv[0]) cut to 15 bytes, as the kernel does. */
  comm?: string;
  startTime?: number;
  /** Full text of /proc/<pid>/cgroup; a container id alone becomes a cgroup v2 systemd-driver line. */
  cgroup?: string;
  containerId?: string;
  nsPids?: number[];
}

/** A /proc-shaped directory tree in a temp folder, for readers that take a proc root. */
export class FakeProcRoot {
  private constructor(readonly root: string) {}

  static async create(): Promise<FakeProcRoot> {
    return new FakeProcRoot(await mkdtemp(join(tmpdir(), 'sentinel-proc-')));
  }

  async add(p: FakeProcess): Promise<void> {
    const dir = join(this.root, String(p.pid));
    await mkdir(dir, { recursive: true });
    const name = (p.exe ?? p.argv[0] ?? '').split('/').pop() ?? '';
    const comm = p.comm ?? name.slice(0, 15);
    const mid = Array.from({ length: 17 }, (_, i) => String(i + 5)).join(' ');
    const tail = Array.from({ length: 30 }, () => '0').join(' ');
    await writeFile(
      join(dir, 'stat'),
      `${p.pid} (${comm}) S ${p.ppid} ${mid} ${p.startTime ?? 1000 + p.pid} ${tail}\n`,
    );
    await writeFile(join(dir, 'cmdline'), p.argv.map((a) => `${a}\0`).join(''));
    const cgroup =
      p.cgroup ??
      (p.containerId ? `0::/system.slice/docker-${p.containerId}.scope\n` : '0::/system.slice/ssh.service\n');
    await writeFile(join(dir, 'cgroup'), cgroup);
    const nsPids = p.nsPids ?? [p.pid];
    await writeFile(
      join(dir, 'status'),
      `Name:\t${comm}\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nNSpid:\t${nsPids.join('\t')}\n`,
    );
    if (p.exe) await symlink(p.exe, join(dir, 'exe'));
  }

  async remove(pid: number): Promise<void> {
    await rm(join(this.root, String(pid)), { recursive: true, force: true });
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
