import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  acquireInstanceLock,
  findLockHolder,
  LOCK_SOCKET,
  seenOnConnectError,
} from '../../../../remediator/state/instance-lock.js';
import { startProcess, type ProcessHandle } from '../../../helpers/start-process.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const HOLDER = fileURLToPath(new URL('../../../helpers/hold-instance-lock.js', import.meta.url));

/** Starts `count` processes that all try to take the lock on `dir` at the same moment; their JSON lines. */
async function race(dir: string, count: number, holdMs: number, prefix: string[] = []) {
  const at = Date.now() + 800; // time for every process to start and load before the moment
  const procs = Array.from({ length: count }, () =>
    prefix.length > 0
      ? startProcess(prefix[0]!, [...prefix.slice(1), process.execPath, HOLDER, dir, String(at), String(holdMs)])
      : startProcess(process.execPath, [HOLDER, dir, String(at), String(holdMs)]),
  );
  try {
    await Promise.all(procs.map((p) => p.waitForOutput(/\n/, 20_000)));
    return { procs, results: procs.map((p) => JSON.parse(p.stdout()) as { won: boolean; error?: string }) };
  } catch (err) {
    await Promise.all(procs.map((p) => p.stop({ signal: 'SIGKILL' })));
    throw err;
  }
}

/** A lock socket whose holder was SIGKILLed: the file stays, nobody listens. */
async function staleLock(dir: string): Promise<void> {
  const { procs } = await race(dir, 1, 60_000);
  await procs[0]!.stop({ signal: 'SIGKILL' });
  assert.ok(existsSync(join(dir, LOCK_SOCKET)), 'the killed holder left its socket behind');
}

describe('one remediator per data_dir', () => {
  // Before the socket lock a PID in remediator.pid was trusted: after a crash and a reboot it may be anyone's.
  it('starts although remediator.pid names an unrelated live process', async () => {
    const t = await tempDir('lock-pid');
    try {
      await writeFile(join(t.dir, 'remediator.pid'), `${process.ppid}\n`); // alive, and not a remediator
      const lock = await acquireInstanceLock(t.dir);
      await lock.release();
      assert.deepEqual(await readdir(t.dir), [], 'released: nothing left, the old pid file included');
    } finally {
      await t.remove();
    }
  });

  it('refuses while another process holds it, naming that process; takes it over once the holder is killed', async () => {
    const t = await tempDir('lock-live');
    let holder: ProcessHandle | undefined;
    try {
      const { procs, results } = await race(t.dir, 1, 60_000);
      holder = procs[0]!;
      assert.equal(results[0]!.won, true);
      await assert.rejects(
        acquireInstanceLock(t.dir),
        new RegExp(`another remediator uses .*: pid ${holder.pid} on host "${hostname()}", running since 20\\d\\d-`),
      );
      assert.equal((await findLockHolder(t.dir))?.holder?.pid, holder.pid);
      await holder.stop({ signal: 'SIGKILL' }); // no clean-up at all: the kernel closes its socket
      assert.equal(await findLockHolder(t.dir), undefined, 'a dead holder holds nothing');
      const lock = await acquireInstanceLock(t.dir);
      await assert.rejects(acquireInstanceLock(t.dir), new RegExp(`pid ${process.pid} `), 'held in this process too');
      await lock.release();
    } finally {
      await holder?.stop({ signal: 'SIGKILL' });
      await t.remove();
    }
  });

  it('exactly one of several starters racing wins, on a fresh data_dir and over a stale lock', async () => {
    const t = await tempDir('lock-race');
    const started: ProcessHandle[] = [];
    try {
      for (const round of ['fresh', 'stale']) {
        const dir = join(t.dir, round);
        await mkdir(dir);
        if (round === 'stale') await staleLock(dir);
        // The winner holds until killed: with a short hold, a starter slowed past it by a loaded machine would win too.
        const { procs, results } = await race(dir, 4, 60_000);
        started.push(...procs);
        assert.equal(results.filter((r) => r.won).length, 1, `${round}: ${JSON.stringify(results)}`);
        for (const r of results.filter((x) => !x.won)) assert.match(r.error!, /another remediator uses/);
      }
    } finally {
      await Promise.all(started.map((p) => p.stop({ signal: 'SIGKILL' })));
      await t.remove();
    }
  });

  // Seen in CI: a starter asking the takeover guard got ECONNRESET (the guard closed with its connection still in the
  // backlog) and gave up with "cannot check the lock" instead of looking again.
  it('reads a connect error as what it says about the holder: reset = gone (look again), refused = stale', () => {
    assert.deepEqual(seenOnConnectError('ECONNRESET'), { state: 'gone' });
    assert.deepEqual(seenOnConnectError('ENOENT'), { state: 'gone' });
    assert.deepEqual(seenOnConnectError('ECONNREFUSED'), { state: 'stale' });
    assert.deepEqual(seenOnConnectError('EAGAIN'), { state: 'live', holder: undefined });
    assert.equal(seenOnConnectError('EACCES'), undefined, 'a permission problem is an error, reported');
  });

  // The socket lives in data_dir, so containers sharing it without sharing PIDs see each other; kill(pid, 0) could not.
  const canUnshare = process.getuid?.() === 0 && existsSync('/usr/bin/unshare') && unshareWorks();
  it(
    'holds against a process in another PID namespace',
    { skip: !canUnshare && 'needs root and unshare' },
    async () => {
      const t = await tempDir('lock-ns');
      let holder: ProcessHandle | undefined;
      try {
        const { procs, results } = await race(t.dir, 1, 60_000, ['unshare', '--pid', '--fork']);
        holder = procs[0]!;
        assert.equal(results[0]!.won, true);
        await assert.rejects(acquireInstanceLock(t.dir), /another remediator uses .*: pid \d+ on host/);
      } finally {
        await holder?.stop({ signal: 'SIGKILL' });
        await t.remove();
      }
    },
  );

  it('works in a data_dir whose path is too long for a socket address', async () => {
    const t = await tempDir('lock-long');
    try {
      const dir = join(t.dir, 'd'.repeat(60), 'e'.repeat(60));
      await mkdir(dir, { recursive: true });
      const lock = await acquireInstanceLock(dir);
      assert.ok(existsSync(join(dir, LOCK_SOCKET)), 'the socket is in data_dir itself');
      await assert.rejects(acquireInstanceLock(dir), /another remediator uses/);
      await lock.release();
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await t.remove();
    }
  });
});

function unshareWorks(): boolean {
  try {
    execFileSync('unshare', ['--pid', '--fork', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
