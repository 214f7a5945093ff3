import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { startProcess } from '../../helpers/start-process.js';
import { waitFor } from '../../helpers/wait-for.js';

test('collects stdout and stderr and reports the exit code', async () => {
  const proc = startProcess(process.execPath, [
    '-e',
    'console.log("out-line"); console.error("err-line"); process.exit(3)',
  ]);
  const exit = await proc.exited;
  assert.equal(exit.code, 3);
  assert.equal(proc.stdout(), 'out-line\n');
  assert.equal(proc.stderr(), 'err-line\n');
  assert.match(proc.output(), /out-line/);
  assert.equal(proc.running(), false);
  await proc.stop();
});

test('feeds input on stdin', async () => {
  const proc = startProcess('sh', ['-c', 'read line; echo "got $line"'], { input: 'hello\n' });
  await proc.exited;
  assert.equal(proc.stdout(), 'got hello\n');
  await proc.stop();
});

test('stop() ends the whole process group, children included', async () => {
  const proc = startProcess('sh', ['-c', 'sleep 300 & echo "child $!"; wait']);
  try {
    const output = await proc.waitForOutput(/child \d+/, 5000);
    const childPid = Number(/child (\d+)/.exec(output)![1]);
    assert.ok(alive(childPid));
    const exit = await proc.stop({ graceMs: 2000 });
    assert.equal(exit.signal, 'SIGTERM');
    await waitFor(() => !alive(childPid), { timeoutMs: 5000, what: `pid ${childPid} to end` });
  } finally {
    await proc.stop();
  }
});

test('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
  const proc = startProcess('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done']);
  await proc.waitForOutput('ready', 5000);
  const exit = await proc.stop({ graceMs: 300 });
  assert.equal(exit.signal, 'SIGKILL');
});

test('waitForOutput fails fast, with the output, when the process exits first', async () => {
  const proc = startProcess('sh', ['-c', 'echo booting; exit 1']);
  await assert.rejects(
    proc.waitForOutput('listening', 10_000),
    /exited \(code 1\) before printing listening[\s\S]*booting/,
  );
  await proc.stop();
});

test('a command that does not exist resolves exited with the spawn error', async () => {
  const proc = startProcess('/nonexistent/sentinel-no-such-binary', []);
  const exit = await proc.exited;
  assert.equal(exit.code, null);
  assert.match(String(exit.error?.message), /ENOENT/);
  await proc.stop();
});
