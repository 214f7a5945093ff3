import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import { CallLog } from '../../../../remediator/actions/call-log.js';
import {
  sameProcess,
  terminateProcess,
  type TerminateOptions,
} from '../../../../remediator/actions/terminate-process.js';
import type { KillCandidate } from '../../../../remediator/actions/select-kill-candidates.js';

const argv = ['/usr/bin/ollama', 'runner', '--model', '/m', '--port', '1'];
const chosen: KillCandidate = {
  pid: 4242,
  startTime: 9000,
  exe: '/usr/bin/ollama',
  argv,
  containerId: 'a'.repeat(64),
  gpuUuid: 'GPU-1',
  usedMemoryBytes: 1,
  why: 'test',
};
const same: ProcessIdentity = {
  pid: 4242,
  ppid: 10,
  startTime: 9000,
  exe: '/usr/bin/ollama',
  argv,
  comm: 'ollama',
  containerId: 'a'.repeat(64),
  nsPids: [4242, 30],
};

test('sameProcess: start time, exe, argv and container must all match', () => {
  assert.equal(sameProcess(chosen, same), true);
  assert.equal(sameProcess(chosen, null), false);
  assert.equal(sameProcess(chosen, { ...same, startTime: 9001 }), false, 'PID reused');
  assert.equal(sameProcess(chosen, { ...same, exe: '/usr/bin/sleep' }), false, 'exec');
  assert.equal(sameProcess(chosen, { ...same, argv: [] }), false, 'zombie: empty cmdline');
  assert.equal(sameProcess(chosen, { ...same, argv: [...argv, '--x'] }), false);
  assert.equal(sameProcess(chosen, { ...same, containerId: null }), false);
});

/** A scripted process: `states` is what /proc shows on each successive identity read. */
function harness(states: (ProcessIdentity | null)[]) {
  const signals: NodeJS.Signals[] = [];
  let reads = 0;
  let clock = 0;
  const opts: TerminateOptions = {
    procRoot: '/fake',
    graceMs: 1000,
    killWaitMs: 1000,
    calls: new CallLog(false),
    signal: new AbortController().signal,
    kill: (_pid, sig) => void signals.push(sig),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    readIdentity: async () => states[Math.min(reads++, states.length - 1)] ?? null,
    pollMs: 100,
  };
  return { opts, signals, reads: () => reads };
}

test('exits after SIGTERM: no SIGKILL', async () => {
  const h = harness([same, same, null]);
  assert.equal(await terminateProcess(chosen, h.opts), 'terminated');
  assert.deepEqual(h.signals, ['SIGTERM']);
});

test('ignores SIGTERM: SIGKILL after the grace period, re-checked first', async () => {
  const h = harness([...Array(13).fill(same), null]);
  assert.equal(await terminateProcess(chosen, h.opts), 'killed');
  assert.deepEqual(h.signals, ['SIGTERM', 'SIGKILL']);
  assert.ok(h.opts.calls.calls.some((c) => c.startsWith('kill -KILL PID 4242')));
});

test('PID reused between discovery and the first signal: nothing is sent', async () => {
  const h = harness([{ ...same, startTime: 12345 }]);
  assert.equal(await terminateProcess(chosen, h.opts), 'gone');
  assert.deepEqual(h.signals, []);
});

test('PID reused during the grace period: no SIGKILL to the newcomer', async () => {
  // alive through the grace polls, then a new process with the same PID appears
  const reused = { ...same, startTime: 9500 };
  const h = harness([same, same, same, reused]);
  assert.equal(await terminateProcess(chosen, h.opts), 'terminated');
  assert.deepEqual(h.signals, ['SIGTERM']);
});

test('survives SIGKILL (D state): reported, not hidden', async () => {
  const h = harness([same]);
  assert.equal(await terminateProcess(chosen, h.opts), 'survived');
  assert.deepEqual(h.signals, ['SIGTERM', 'SIGKILL']);
});

test('dry-run: identity read, no signal, the ladder listed', async () => {
  const h = harness([same]);
  const calls = new CallLog(true);
  assert.equal(await terminateProcess(chosen, { ...h.opts, calls }), 'dry_run');
  assert.deepEqual(h.signals, []);
  assert.ok(calls.calls.some((c) => c.startsWith('would kill -TERM PID 4242')));
  assert.ok(calls.calls.some((c) => c.includes('would wait 1000 ms') && c.includes('kill -KILL')));
});

test('ESRCH on SIGTERM counts as already exited; EPERM propagates', async () => {
  const gone = harness([same]);
  gone.opts = {
    ...gone.opts,
    kill: () => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    },
  };
  assert.equal(await terminateProcess(chosen, gone.opts), 'terminated');
  const denied = harness([same]);
  denied.opts = {
    ...denied.opts,
    kill: () => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    },
  };
  await assert.rejects(terminateProcess(chosen, denied.opts), /EPERM/);
});
