import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHostPidMap, innerPid } from '../../sim/host-pid-map.js';
import { tempDir } from '../../helpers/temp-dir.js';

// /proc/<pid>/status lines as Linux prints them (fs/proc/array.c: tab-separated, outermost namespace first).
const STATUS = (nspid: string) => `Name:\tllama-server\nTgid:\t${nspid.split('\t')[0]}\nNSpid:\t${nspid}\nPPid:\t1\n`;

test('innerPid: the last NSpid entry of a process in a nested PID namespace; none in the host namespace', () => {
  assert.equal(innerPid(STATUS('48213\t17')), 17);
  assert.equal(innerPid(STATUS('48213\t902\t17')), 17, 'nested twice');
  assert.equal(innerPid(STATUS('48213')), undefined, 'a host process has no inner PID');
  assert.equal(innerPid('Name:\tkthreadd\n'), undefined, 'kernels before 4.1 print no NSpid');
});

test('a runner in a container: its host PID is the one whose NSpid ends with its PID and whose cmdline matches', async (t) => {
  const d = await tempDir('host-pid');
  t.after(() => d.remove());
  const own = join(d.dir, 'own');
  const host = join(d.dir, 'host');
  const proc = (root: string, pid: number, status: string, cmdline: string) => {
    mkdirSync(join(root, String(pid)), { recursive: true });
    writeFileSync(join(root, String(pid), 'status'), status);
    writeFileSync(join(root, String(pid), 'cmdline'), cmdline);
  };
  const runner = ['/opt/ollama/lib/ollama/llama-server', '--model', '/m/blob', '--port', '41001', ''].join('\0');
  proc(own, 17, STATUS('17'), runner);
  // Another container's PID 17 (another cmdline), a host process, then ours.
  proc(host, 3001, STATUS('3001\t17'), '/usr/bin/postgres\0');
  proc(host, 17, STATUS('17'), '/sbin/agetty\0');
  proc(host, 48213, STATUS('48213\t17'), runner);
  const map = createHostPidMap(host, own);
  assert.equal(map.toHost(17), 48213);
  assert.equal(map.alive(48213), true);
  assert.equal(map.toHost(99), undefined, 'a process of this namespace that is gone');

  rmSync(join(host, '48213'), { recursive: true });
  assert.equal(map.alive(48213), false, 'gone on the host: its GPU line is stale');
  assert.equal(map.toHost(17), undefined, 'the cached answer is checked again, not trusted');
});

test('without a host /proc, PIDs are the host PIDs (the simulator runs in the host PID namespace)', () => {
  const map = createHostPidMap(undefined);
  assert.equal(map.toHost(process.pid), process.pid);
  assert.equal(map.alive(process.pid), true);
});
