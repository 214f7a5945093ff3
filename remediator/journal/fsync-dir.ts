import { open } from 'node:fs/promises';

/** Makes a created, renamed or deleted directory entry durable (the file's own fsync does not cover its name). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
