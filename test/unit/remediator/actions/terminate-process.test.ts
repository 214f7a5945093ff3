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
  runtime: 'docker',
  onHost: false,
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

/**
 * The process ignores SIGTERM through the whole grace period, then exits and its PID is taken by `newcomer` in the
 * instant between the last grace poll and the SIGKILL: only the identity re-read right before SIGKILL can see it.
 * The switch is keyed to the second "identity re-check" the action logs (the one before SIGKILL), so it does not
 * depend on how many polls the grace period takes.
 */
function swappedBeforeSigkill(newcomer: ProcessIdentity) {
  const h = harness([same]);
  const calls = new CallLog(false);
  const rechecks = () => calls.calls.filter((c) => c.includes('identity re-check')).length;
  h.opts = { ...h.opts, calls, readIdentity: async () => (rechecks() >= 2 ? newcomer : same) };
  return h;
}

test('SIGKILL-time re-check: a PID reused (new start time) right after the grace period gets no SIGKILL', async () => {
  const h = swappedBeforeSigkill({ ...same, startTime: 9777 });
  assert.equal(await terminateProcess(chosen, h.opts), 'terminated');
  assert.deepEqual(h.signals, ['SIGTERM'], 'the newcomer must not be SIGKILLed');
});

test('SIGKILL-time re-check: the same PID and start time now running another executable gets no SIGKILL', async () => {
  // exec() keeps the PID and the start time; only /proc/<pid>/exe (and argv) tell.
  const h = swappedBeforeSigkill({ ...same, exe: '/usr/bin/python3', argv: ['/usr/bin/python3', 'train.py'] });
  assert.equal(await terminateProcess(chosen, h.opts), 'terminated');
  assert.deepEqual(h.signals, ['SIGTERM']);
});
