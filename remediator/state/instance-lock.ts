import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { alive } from '../../shared/proc/read-process-identity.js';

/**
 * One remediator per data_dir: two would both replay the journal and act twice. The pid file is taken with O_EXCL;
 * a file left by a dead process (or by this very pid, as after a container restart where we are PID 1 again) is
 * taken over.
 */
export async function acquireInstanceLock(
  dir: string,
  pid: number = process.pid,
): Promise<{ release(): Promise<void> }> {
  const path = join(dir, 'remediator.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${pid}\n`);
      await handle.sync();
      await handle.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
        throw new Error(`another remediator (pid ${holder}) uses ${dir}; stop it or use another remediator.data_dir`, {
          cause: err,
        });
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`cannot take the lock file ${path}`);
}
