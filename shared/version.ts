import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The product version, from package.json (two levels above dist/shared/). */
export function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as { version: string };
  return pkg.version;
}
