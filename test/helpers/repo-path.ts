import { fileURLToPath } from 'node:url';

/** A path in the repository: helpers run from dist/test/helpers/, the files they check live at the root. */
export function repoPath(...parts: string[]): string {
  return fileURLToPath(new URL(`../../../${parts.join('/')}`, import.meta.url));
}
