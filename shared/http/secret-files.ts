import { readFileSync } from 'node:fs';
import type { ConfigIssues } from '../config/config-issues.js';

/** A sentence saying why a file named in the configuration cannot be read, naming the path. */
export function describeFileError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${path} does not exist`;
  if (code === 'EISDIR') return `${path} is a directory, not a file`;
  if (code === 'EACCES' || code === 'EPERM')
    return `${path} cannot be read by this process (uid ${process.getuid?.() ?? '?'}): ${code}`;
  return `cannot read ${path}: ${code ?? (err as Error).message}`;
}

/** Reads a file named in the configuration; the error names the path and the reason. */
export function readConfigFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(describeFileError(path, err), { cause: err });
  }
}

/**
 * Reads a secret file; a trailing newline is ignored because editors and `echo` add it. An empty secret is an error:
 * an empty bearer token or password would be compared as such, never matched by a real client, or sent as nothing.
 */
export function readSecretFile(path: string): string {
  const text = readConfigFile(path)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text.trim() === '') throw new Error(`${path} is empty`);
  return text;
}

/** Adds an issue under `key` when the secret file at `path` cannot be used. */
export function checkSecretFile(key: string, path: string | undefined, issues: ConfigIssues, what: string): void {
  if (path === undefined) return;
  try {
    readSecretFile(path);
  } catch (err) {
    issues.add(key, (err as Error).message, `write ${what} into ${path} (one line), or correct the path`);
  }
}
