/**
 * argv from the bytes of `/proc/<pid>/cmdline`: NUL-terminated arguments. Empty for kernel threads and zombies.
 * A process that rewrites its own argv (setproctitle) may leave one space-joined string: that is what it asked to
 * show, so it is kept as is.
 */
export function parseCmdline(raw: Buffer | string): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.length === 0) return [];
  const parts = text.split('\0');
  // The final NUL terminates the last argument; it does not start an empty one.
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
