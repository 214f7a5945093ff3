import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBuildInfo, readGitHead, readVersion } from '../../../shared/version.js';

const SHA = 'c57bfb9e0f8a4d2b1c3e5f7a9b0d2c4e6f8a1b3c';
const OTHER = '0123456789abcdef0123456789abcdef01234567';

function checkout(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-git-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('readGitHead: branch and commit from a loose ref, then from packed-refs', (t) => {
  const loose = checkout(t, { '.git/HEAD': 'ref: refs/heads/main\n', '.git/refs/heads/main': `${SHA}\n` });
  assert.deepEqual(readGitHead(loose), { revision: SHA, branch: 'main' });
  const packed = checkout(t, {
    '.git/HEAD': 'ref: refs/heads/feature/x\n',
    '.git/packed-refs': `# pack-refs with: peeled fully-peeled sorted\n${OTHER} refs/heads/main\n${SHA} refs/heads/feature/x\n`,
  });
  assert.deepEqual(readGitHead(packed), { revision: SHA, branch: 'feature/x' });
});

test('readGitHead: a detached HEAD, a worktree .git file, a fresh branch with no commit, and no checkout', (t) => {
  assert.deepEqual(readGitHead(checkout(t, { '.git/HEAD': `${SHA}\n` })), { revision: SHA, branch: null });
  const main = checkout(t, {
    '.git/refs/heads/topic': `${SHA}\n`,
    '.git/worktrees/wt/HEAD': 'ref: refs/heads/topic\n',
    '.git/worktrees/wt/commondir': '../..\n',
  });
  const wt = checkout(t, { '.git': `gitdir: ${join(main, '.git/worktrees/wt')}\n` });
  assert.deepEqual(readGitHead(wt), { revision: SHA, branch: 'topic' });
  assert.deepEqual(readGitHead(checkout(t, { '.git/HEAD': 'ref: refs/heads/new\n' })), {
    revision: null,
    branch: 'new',
  });
  assert.equal(readGitHead(checkout(t, { 'package.json': '{}' })), null);
});

test('readBuildInfo: the image environment wins over the checkout; nothing known reads "unknown"', (t) => {
  const dir = checkout(t, { '.git/HEAD': 'ref: refs/heads/main\n', '.git/refs/heads/main': `${SHA}\n` });
  assert.deepEqual(readBuildInfo({}, dir), { version: readVersion(), revision: SHA, branch: 'main' });
  assert.deepEqual(readBuildInfo({ SENTINEL_BUILD_REVISION: OTHER, SENTINEL_BUILD_BRANCH: 'release' }, dir), {
    version: readVersion(),
    revision: OTHER,
    branch: 'release',
  });
  assert.deepEqual(readBuildInfo({}, checkout(t, {})), {
    version: readVersion(),
    revision: 'unknown',
    branch: 'unknown',
  });
});
