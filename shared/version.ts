import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (or image folder) this code runs from: two levels above dist/shared/. */
const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** The product version, from package.json (two levels above dist/shared/). */
export function readVersion(): string {
  const pkg = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** What `*_build_info` shows, as Go exporters do (version, revision, branch). */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
}

/**
 * The build: the version from package.json; revision and branch from SENTINEL_BUILD_REVISION and
 * SENTINEL_BUILD_BRANCH (the image sets them from its build arguments), else from the git checkout the code runs
 * from (read from .git without the git binary), else "unknown".
 */
export function readBuildInfo(env: NodeJS.ProcessEnv, appDir: string = APP_DIR): BuildInfo {
  const fromGit = env.SENTINEL_BUILD_REVISION && env.SENTINEL_BUILD_BRANCH ? null : readGitHead(appDir);
  return {
    version: readVersion(),
    revision: env.SENTINEL_BUILD_REVISION || fromGit?.revision || 'unknown',
    branch: env.SENTINEL_BUILD_BRANCH || fromGit?.branch || 'unknown',
  };
}

/** HEAD of the checkout at `dir` (a worktree's `.git` file is followed); null when there is none to read. */
export function readGitHead(dir: string): { revision: string | null; branch: string | null } | null {
  const read = (file: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  };
  let gitDir = join(dir, '.git');
  const pointer = read(gitDir);
  if (pointer !== null) {
    const m = /^gitdir: (.+)$/m.exec(pointer);
    if (!m) return null;
    gitDir = resolve(dir, m[1]!.trim());
  }
  const head = read(join(gitDir, 'HEAD'))?.trim();
  if (!head) return null;
  const ref = /^ref: (refs\/heads\/(.+))$/.exec(head);
  if (!ref) return /^[0-9a-f]{40,64}$/.test(head) ? { revision: head, branch: null } : null;
  // A worktree keeps its refs in the main repository (commondir).
  const common = read(join(gitDir, 'commondir'))?.trim();
  const refsDir = common ? resolve(gitDir, common) : gitDir;
  const loose = read(join(refsDir, ref[1]!))?.trim() ?? read(join(gitDir, ref[1]!))?.trim();
  const packed = read(join(refsDir, 'packed-refs'))
    ?.split('\n')
    .find((l) => l.endsWith(` ${ref[1]}`))
    ?.split(' ')[0];
  const revision = loose ?? packed ?? null;
  return { revision: revision && /^[0-9a-f]{40,64}$/.test(revision) ? revision : null, branch: ref[2]! };
}
