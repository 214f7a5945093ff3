import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseCmdline,
  parseNsPids,
  readProcessIdentity,
  type ProcReader,
} from '../../../../shared/proc/read-process-identity.js';

const fixtures = new URL('../../../../../test/fixtures/cgroup/', import.meta.url);

async function fakeProc(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sentinel-proc-'));
}

async function writeProcess(
  root: string,
  pid: number,
  p: { comm: string; ppid: number; startTime: number; argv: string[]; exe?: string; cgroup: string; nspid: string },
): Promise<void> {
  const dir = join(root, String(pid));
  await mkdir(dir, { recursive: true });
  const tail = Array.from({ length: 30 }, () => '0').join(' ');
  const mid = Array.from({ length: 17 }, (_, i) => String(i + 5)).join(' ');
  await writeFile(join(dir, 'stat'), `${pid} (${p.comm}) S ${p.ppid} ${mid} ${p.startTime} ${tail}\n`);
  await writeFile(join(dir, 'cmdline'), p.argv.map((a) => `${a}\0`).join(''));
  await writeFile(join(dir, 'cgroup'), p.cgroup);
  await writeFile(join(dir, 'status'), `Name:\t${p.comm}\nPid:\t${pid}\nPPid:\t${p.ppid}\nNSpid:\t${p.nspid}\n`);
  if (p.exe) await symlink(p.exe, join(dir, 'exe'));
}

test('readProcessIdentity: a runner inside a container (fake proc root)', async (t) => {
  const root = await fakeProc();
  t.after(() => rm(root, { recursive: true, force: true }));
  const cgroup = await readFile(new URL('v2-systemd.txt', fixtures), 'utf8');
  const argv = ['/usr/bin/ollama', 'runner', '--model', '/root/.ollama/models/blobs/sha256-x', '--port', '40123'];
  await writeProcess(root, 31337, {
    comm: 'ollama',
    ppid: 31300,
    startTime: 2609,
    argv,
    exe: '/usr/bin/ollama',
    cgroup,
    nspid: '31337\t27',
  });

  const id = await readProcessIdentity(root, 31337);
  assert.deepEqual(id, {
    pid: 31337,
    ppid: 31300,
    startTime: 2609,
    exe: '/usr/bin/ollama',
    argv,
    comm: 'ollama',
    containerId: /docker-([0-9a-f]{64})\.scope/.exec(cgroup)![1],
    runtime: 'docker',
    onHost: false,
    nsPids: [31337, 27],
  });
});

test('readProcessIdentity: an unreadable exe link leaves exe null, the process is still there', async (t) => {
  const root = await fakeProc();
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeProcess(root, 5, { comm: 'x', ppid: 1, startTime: 9, argv: ['x'], cgroup: '0::/\n', nspid: '5' });
  // Not a link at all (readlink fails with EINVAL), as unreadable as EACCES for a non-root reader.
  await mkdir(join(root, '5', 'exe'));
  const id = await readProcessIdentity(root, 5);
  assert.ok(id);
  assert.equal(id.exe, null);
  assert.equal(id.containerId, null);
});

test('readProcessIdentity: a kernel thread (no exe, empty cmdline) is a live process', async (t) => {
  // kthreadd is PID 2 in the host PID namespace; inside a container's namespace there is no kernel thread to read.
  const stat = await readFile('/proc/2/stat', 'utf8').catch(() => '');
  if (!stat.includes('(kthreadd)')) return t.skip('no kernel thread visible in this PID namespace');
  const id = await readProcessIdentity('/proc', 2);
  assert.ok(id);
  assert.equal(id.comm, 'kthreadd');
  assert.equal(id.exe, null);
  assert.deepEqual(id.argv, []);
});

test('readProcessIdentity: a PID that does not exist gives null', async (t) => {
  const root = await fakeProc();
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(await readProcessIdentity(root, 424242), null);
});

test('readProcessIdentity: invalid PIDs never become paths', async () => {
  assert.equal(await readProcessIdentity('/proc', 0), null);
  assert.equal(await readProcessIdentity('/proc', -1), null);
  assert.equal(await readProcessIdentity('/proc', 1.5), null);
});

test('readProcessIdentity: this very process from the real /proc', async () => {
  const id = await readProcessIdentity('/proc', process.pid);
  assert.ok(id);
  assert.equal(id.pid, process.pid);
  assert.equal(id.ppid, process.ppid);
  assert.equal(id.nsPids[0], process.pid);
  // The kernel's argv is what Node was started with, whatever process.argv later normalises.
  assert.ok(
    id.argv.some((a) => a.endsWith('read-process-identity.test.js')),
    id.argv.join(' '),
  );
  assert.equal(id.exe, process.execPath);
  assert.ok(id.argv.length >= 1);
  assert.ok(id.startTime > 0);
});

test('parseCmdline: NUL-terminated argv of an Ollama runner', () => {
  const raw = Buffer.from(
    '/usr/bin/ollama\0runner\0--ollama-engine\0--model\0/root/.ollama/models/blobs/sha256-1\0--port\x0040123\0',
  );
  assert.deepEqual(parseCmdline(raw), [
    '/usr/bin/ollama',
    'runner',
    '--ollama-engine',
    '--model',
    '/root/.ollama/models/blobs/sha256-1',
    '--port',
    '40123',
  ]);
});

test('parseCmdline: arguments with spaces stay whole; empty arguments are kept', () => {
  assert.deepEqual(parseCmdline('python3\0-c\0print("a b")\0\0x\0'), ['python3', '-c', 'print("a b")', '', 'x']);
});

test('parseCmdline: kernel threads have an empty cmdline', () => {
  assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
});

test('parseCmdline: a process that rewrote its title without a final NUL', () => {
  assert.deepEqual(parseCmdline('postgres: checkpointer'), ['postgres: checkpointer']);
});

const status = (nspid: string): string =>
  `Name:\tollama\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t412\nNgid:\t0\nPid:\t412\nPPid:\t1\n${nspid}NSsid:\t1\nVmPeak:\t  100 kB\n`;

test('parseNsPids: host process has one PID', () => {
  assert.deepEqual(parseNsPids(status('NSpid:\t412\n')), [412]);
});

test('parseNsPids: process in a container lists host PID then container PID', () => {
  assert.deepEqual(parseNsPids(status('NSpid:\t31337\t1\n')), [31337, 1]);
});

test('parseNsPids: old kernels without the line give an empty list', () => {
  assert.deepEqual(parseNsPids(status('')), []);
});

test('parseNsPids: this process, from the real /proc', () => {
  const pids = parseNsPids(readFileSync('/proc/self/status', 'utf8'));
  assert.equal(pids[0], process.pid);
});

test('readProcessIdentity: the PID reused between the two stat reads gives null, not a mix of two processes', async () => {
  // The double read: stat first, the other files, stat again. Here the process dies after the first stat read and
  // its PID goes to a new process (another start time) whose cmdline, exe and cgroup are what the later reads see.
  const stat = (start: number, comm: string) =>
    Buffer.from(`77 (${comm}) S 1 ${Array.from({ length: 17 }, () => '0').join(' ')} ${start} 0 0\n`);
  let statReads = 0;
  const io: ProcReader = {
    readFile: async (path) => {
      if (path.endsWith('/stat')) return statReads++ === 0 ? stat(500, 'ollama') : stat(900, 'sshd');
      if (path.endsWith('/cmdline')) return Buffer.from('/usr/sbin/sshd\0-D\0');
      if (path.endsWith('/cgroup')) return Buffer.from('0::/system.slice/ssh.service\n');
      return Buffer.from('Name:\tsshd\nNSpid:\t77\n');
    },
    readlink: async () => '/usr/sbin/sshd',
  };
  assert.equal(await readProcessIdentity('/fake', 77, io), null);
  assert.equal(statReads, 2);

  // The same reads with a stable start time give the identity (so the null above is the double read's doing).
  statReads = 0;
  const steady: ProcReader = {
    ...io,
    readFile: async (p) => (p.endsWith('/stat') ? stat(900, 'sshd') : io.readFile(p)),
  };
  const id = await readProcessIdentity('/fake', 77, steady);
  assert.equal(id?.startTime, 900);
  assert.deepEqual(id?.argv, ['/usr/sbin/sshd', '-D']);
});

test('readProcessIdentity: onHost only without a runtime in the cgroup and in the PID namespace of the proc root', async (t) => {
  const root = await fakeProc();
  t.after(() => rm(root, { recursive: true, force: true }));
  const base = { comm: 'ollama', ppid: 1, startTime: 9, argv: ['/usr/bin/ollama', 'serve'] };
  await writeProcess(root, 10, { ...base, cgroup: '0::/system.slice/ollama.service\n', nspid: '10' });
  await writeProcess(root, 11, { ...base, cgroup: '0::/lxc.payload.ai/system.slice/ollama.service\n', nspid: '11\t4' });
  // containerd's `ctr run` names its cgroup after the container, no id and no runtime word: the PID namespace tells.
  await writeProcess(root, 12, { ...base, cgroup: '0::/default/ollama\n', nspid: '12\t1' });
  await writeProcess(root, 13, { ...base, cgroup: '0::/system.slice/ollama.service\n', nspid: '' });
  const placed = async (pid: number) => {
    const id = await readProcessIdentity(root, pid);
    return [id?.containerId, id?.runtime, id?.onHost];
  };
  assert.deepEqual(await placed(10), [null, null, true]);
  assert.deepEqual(await placed(11), [null, 'lxc', false]);
  assert.deepEqual(await placed(12), [null, null, false]);
  assert.deepEqual(await placed(13), [null, null, false], 'no NSpid line: cannot prove the namespace');
});
