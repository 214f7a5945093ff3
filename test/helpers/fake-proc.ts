import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeProcess {
  readonly comm: string;
  readonly ppid: number;
  readonly startTime: number;
  readonly argv: readonly string[];
  readonly exe?: string;
  /** Container id (Docker cgroupfs path) or none (host). */
  readonly containerId?: string;
  /** The whole /proc/<pid>/cgroup text instead (another runtime's layout, LXC...). */
  readonly cgroup?: string;
  /** NSpid line values, outermost first. */
  readonly nsPids: readonly number[];
}

/** What `<root>/sys/kernel/random/boot_id` says in every FakeProc. */
export const FAKE_BOOT_ID = '6f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0';

/** A /proc look-alike in a temp dir: `1/ns/pid` says which PID namespace it is; processes are added and removed. */
export class FakeProc {
  private constructor(readonly root: string) {}

  static async create(hostNamespace = true): Promise<FakeProc> {
    const root = await mkdtemp(join(tmpdir(), 'sentinel-fake-proc-'));
    await mkdir(join(root, '1', 'ns'), { recursive: true });
    await symlink(hostNamespace ? 'pid:[4026531836]' : 'pid:[4026532999]', join(root, '1', 'ns', 'pid'));
    // Seen from this process's own PID namespace, as procfs `self` shows (signals go to the PIDs listed here).
    await symlink(String(process.pid), join(root, 'self'));
    await mkdir(join(root, 'sys', 'kernel', 'random'), { recursive: true });
    await writeFile(join(root, 'sys', 'kernel', 'random', 'boot_id'), `${FAKE_BOOT_ID}\n`);
    return new FakeProc(root);
  }

  async add(pid: number, p: FakeProcess): Promise<void> {
    const dir = join(this.root, String(pid));
    await mkdir(dir, { recursive: true });
    const mid = Array.from({ length: 17 }, (_, i) => String(i + 5)).join(' ');
    const tail = Array.from({ length: 30 }, () => '0').join(' ');
    await writeFile(join(dir, 'stat'), `${pid} (${p.comm}) S ${p.ppid} ${mid} ${p.startTime} ${tail}\n`);
    await writeFile(join(dir, 'cmdline'), p.argv.map((a) => `${a}\0`).join(''));
    await writeFile(
      join(dir, 'cgroup'),
      p.cgroup ??
        (p.containerId
          ? `12:memory:/docker/${p.containerId}\n0::/docker/${p.containerId}\n`
          : '0::/user.slice/session-1.scope\n'),
    );
    await writeFile(
      join(dir, 'status'),
      `Name:\t${p.comm}\nPid:\t${pid}\nPPid:\t${p.ppid}\nNSpid:\t${p.nsPids.join('\t')}\n`,
    );
    await rm(join(dir, 'exe'), { force: true });
    if (p.exe) await symlink(p.exe, join(dir, 'exe'));
  }

  async remove(pid: number): Promise<void> {
    await rm(join(this.root, String(pid)), { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
