import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initExitCode,
  INIT_EXIT,
  type ModelOutcome,
  type TargetOutcome,
} from '../../../../shared/init/init-outcome.js';
import type { VerifyModelResult } from '../../../../shared/provision/verify-model.js';

const up = { ok: true, version: '0.12.6', attempts: 1, waitedMs: 5 };
const target = (models: ModelOutcome[], wait: TargetOutcome['wait'] = up): TargetOutcome => ({
  target: 't',
  url: 'http://127.0.0.1:1',
  wait,
  models,
});
const pulled = (model: string): ModelOutcome => ({
  model,
  fetch: { ok: true, result: { model, action: 'pulled', durationMs: 1, attempts: 1 } },
});
const fetchFailed = (model: string): ModelOutcome => ({
  model,
  fetch: { ok: false, stage: 'pull', problem: 'x', permanent: true, attempts: 1, durationMs: 1 },
});
const verified = (ok: boolean): VerifyModelResult => ({
  model: 'm',
  ok,
  durationMs: 1,
  wasResident: false,
  unloaded: true,
});

test('all good is 0, also with no targets or no models', () => {
  assert.equal(initExitCode([]), INIT_EXIT.OK);
  assert.equal(initExitCode([target([])]), INIT_EXIT.OK);
  assert.equal(initExitCode([target([pulled('a'), { ...pulled('b'), verify: verified(true) }])]), INIT_EXIT.OK);
});

test('each failure kind has its own code', () => {
  assert.equal(initExitCode([target([], { ok: false, attempts: 3, waitedMs: 10, problem: 'refused' })]), 3);
  assert.equal(initExitCode([target([fetchFailed('a')])]), 4);
  assert.equal(initExitCode([target([{ ...pulled('a'), verify: verified(false) }])]), 5);
  assert.equal(
    initExitCode([target([{ model: 'a', check: { ok: false, problem: 'not present', durationMs: 1 } }])]),
    6,
  );
});

test('several failures: the lowest code (earliest step) wins, across targets', () => {
  const verifyFail = target([{ ...pulled('a'), verify: verified(false) }, fetchFailed('b')]);
  assert.equal(initExitCode([verifyFail]), 4);
  assert.equal(initExitCode([verifyFail, target([], { ok: false, attempts: 1, waitedMs: 1 })]), 3);
});
