import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcStat } from '../../../../shared/proc/parse-proc-stat.js';
import {
  parseVmRssBytes,
  readBootTimeMs,
  readProcessCounters,
  startedAtMs,
} from '../../../../shared/proc/read-process-counters.js';
import { FakeProcRoot } from '../../../helpers/fake-proc-root.js';
import { repoPath } from '../../../helpers/repo-path.js';

const fixture = (name: string) => repoPath('test/fixtures/proc', name);

test('readProcessCounters: captured stat/status/io of a busy node process', async (t) => {
  const root = await FakeProcRoot.create();
  t.after(() => root.cleanup());
  await root.add({ pid: 24413, ppid: 24404, argv: ['node'] });
  for (const f of ['stat', 'status', 'io']) await copyFile(fixture(`node-${f}.txt`), join(root.root, '24413', f));
  const c = await readProcessCounters(root.root, 24413, 950934);
  // utime 165 + stime 2 ticks at USER_HZ 100; VmRSS 46668 kB (stat says 11569 pages, read a moment apart).
  assert.deepEqual(c, {
    startTime: 950934,
    cpuSeconds: 1.67,
    rssBytes: 46668 * 1024,
    io: { rchar: 251546, readBytes: 0 },
  });
});

test('readProcessCounters: io unreadable (EACCES without CAP_SYS_PTRACE, or absent) is null, the rest stays', async (t) => {
  const root = await FakeProcRoot.create();
  t.after(() => root.cleanup());
  await root.add({ pid: 50, ppid: 1, argv: ['x'], startTime: 777 }); // no io file, no VmRSS line
  const c = await readProcessCounters(root.root, 50);
  assert.equal(c?.io, null);
  assert.equal(c?.startTime, 777);
  // FakeProcRoot's stat has utime 14, stime 15 (field N = N) and rss 0.
  assert.equal(c?.cpuSeconds, 0.29);
  assert.equal(c?.rssBytes, 0);
});

test('readProcessCounters: a reused PID (other start time) and a gone PID are null', async (t) => {
  const root = await FakeProcRoot.create();
  t.after(() => root.cleanup());
  await root.add({ pid: 60, ppid: 1, argv: ['x'], startTime: 100 });
  assert.equal(await readProcessCounters(root.root, 60, 99), null);
  assert.equal(await readProcessCounters(root.root, 61), null);
  assert.equal(await readProcessCounters(root.root, -1), null);
});

test('readProcessCounters: this process from the real /proc; /proc/1/io may be denied but never throws', async () => {
  const start = parseProcStat(readFileSync('/proc/self/stat', 'utf8')).startTime;
  const c = await readProcessCounters('/proc', process.pid, start);
  assert.ok(c && c.cpuSeconds > 0 && c.rssBytes > 1 << 20);
  assert.ok(c.io && c.io.rchar > 0);
  const init = await readProcessCounters('/proc', 1);
  assert.ok(init === null || init.io === null || init.io.rchar >= 0);
});

test('parseVmRssBytes and the boot time: real files', async () => {
  assert.equal(parseVmRssBytes(await readFile(fixture('node-status.txt'), 'utf8')), 46668 * 1024);
  assert.equal(parseVmRssBytes('Name:\tkthreadd\nState:\tS\n'), null);
  const boot = await readBootTimeMs('/proc');
  assert.ok(boot !== null && boot < Date.now());
  // This process started after boot and before now.
  const started = startedAtMs(boot, parseProcStat(readFileSync('/proc/self/stat', 'utf8')).startTime);
  assert.ok(started >= boot && started <= Date.now() + 1000, `${started}`);
});

test('readBootTimeMs: now less /proc/uptime; no /proc/uptime is null', async (t) => {
  const root = await FakeProcRoot.create();
  t.after(() => root.cleanup());
  assert.equal(await readBootTimeMs(root.root), null);
  await writeFile(join(root.root, 'uptime'), '350735.47 690637.46\n');
  assert.equal(await readBootTimeMs(root.root, () => 1_700_000_000_000), 1_700_000_000_000 - 350_735_470);
  await writeFile(join(root.root, 'uptime'), 'garbage\n');
  assert.equal(await readBootTimeMs(root.root), null);
  // The clock is read after the file: a read that lands late must not date the boot (and every start) too early.
  await writeFile(join(root.root, 'uptime'), '100.00 1.00\n');
  const reads: string[] = [];
  const clock = () => (reads.push('clock'), 1_700_000_000_000);
  const boot = readBootTimeMs(root.root, clock);
  reads.push('called');
  assert.equal(await boot, 1_700_000_000_000 - 100_000);
  assert.deepEqual(reads, ['called', 'clock'], 'the clock after the uptime read resolved');
});

test('a process started now is dated to within a few clock ticks (btime would be up to 1 s early)', async () => {
  const before = Date.now();
  const child = spawn('sleep', ['5']);
  const after = Date.now();
  try {
    await new Promise((r) => setTimeout(r, 50));
    const boot = await readBootTimeMs('/proc');
    const stat = parseProcStat(readFileSync(`/proc/${child.pid}/stat`, 'utf8'));
    const started = startedAtMs(boot!, stat.startTime);
    // One clock tick (10 ms) of start-time resolution and 10 ms of /proc/uptime's, either way.
    assert.ok(started >= before - 30 && started <= after + 30, `started ${started - before} ms after the spawn call`);
  } finally {
    child.kill('SIGKILL');
  }
});
