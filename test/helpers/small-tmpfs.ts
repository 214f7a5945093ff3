import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why a disk-full test cannot run here (mounting needs root, and a container may forbid it even to root), or false. */
export function tmpfsSkip(): string | false {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return false;
  } catch (err) {
    return `cannot mount a tmpfs here: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`;
  } finally {
    rmdirSync(dir);
  }
}

/**
 * A small tmpfs mounted on a temp dir: a disk that a test fills up (every free page taken by a filler file, so the
 * next write that needs a new page fails with ENOSPC) and frees again. Appends that fit in a file's last, partly used
 * page still succeed, as on any real filesystem.
 */
export class SmallTmpfs {
  #filler: number | undefined;

  private constructor(readonly dir: string) {}

  static async mount(sizeKiB: number): Promise<SmallTmpfs> {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-tmpfs-'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
    return new SmallTmpfs(dir);
  }

  /** Takes every free page. Synchronous, so it can happen at an exact moment (inside a signal's delivery). */
  fill(): void {
    if (this.#filler !== undefined) return;
    const fd = openSync(join(this.dir, '.filler'), 'w');
    this.#filler = fd;
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 0x2e);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  }

  /** Gives the filler's pages back. */
  free(): void {
    if (this.#filler !== undefined) closeSync(this.#filler);
    this.#filler = undefined;
    rmSync(join(this.dir, '.filler'), { force: true });
  }

  /** Every file on it must be closed first; a busy one is detached lazily rather than left mounted. */
  async unmount(): Promise<void> {
    this.free();
    await run('umount', [this.dir]).catch(() => run('umount', ['-l', this.dir]));
    await rmdir(this.dir);
  }
}
