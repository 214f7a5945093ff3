import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createFieldCheck } from '../../../../shared/gpu/create-field-check.js';
import { NvidiaSmiError } from '../../../../shared/gpu/run-nvidia-smi.js';
import { fakeRun, fixture } from '../../../helpers/gpu-fixture.js';

const signal = new AbortController().signal;

test('field check: drops what the driver lacks, caches success, retries after failure and after reset', async () => {
  let helpExit = 9;
  const { run, calls } = fakeRun(() =>
    helpExit === 0
      ? { stdout: fixture('help-query-gpu.txt'), stderr: '', exitCode: 0 }
      : {
          stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
          stderr: '',
          exitCode: helpExit,
        },
  );
  const warnings: unknown[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void warnings.push(JSON.parse(s)) });
  const check = createFieldCheck({
    command: 'nvidia-smi',
    wanted: ['uuid', 'no.such.field', 'clocks.sm'],
    required: ['uuid'],
    timeoutMs: 1000,
    run,
    log,
  });

  await assert.rejects(
    check.resolve(signal),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'driver_not_loaded',
  );
  helpExit = 0;
  const first = await check.resolve(signal);
  assert.deepEqual(first.fields, ['uuid', 'clocks.sm']);
  assert.deepEqual(first.dropped, ['no.such.field']);
  assert.equal(warnings.length, 1);
  assert.equal(await check.resolve(signal), first);
  assert.equal(calls.length, 2);
  check.reset();
  await check.resolve(signal);
  assert.equal(calls.length, 3);
  assert.deepEqual(
    calls.map((c) => c.args),
    [['--help-query-gpu'], ['--help-query-gpu'], ['--help-query-gpu']],
  );
});

test('field check: a missing required field is an error, not a silent drop', async () => {
  const { run } = fakeRun(() => ({ stdout: '"index"\nIndex.\n', stderr: '', exitCode: 0 }));
  const check = createFieldCheck({
    command: 'nvidia-smi',
    wanted: ['index', 'uuid'],
    required: ['uuid'],
    timeoutMs: 1000,
    run,
    log: pino({ level: 'silent' }),
  });
  await assert.rejects(check.resolve(signal), (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'bad_field');
});
