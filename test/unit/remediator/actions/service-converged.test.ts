import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceConverged } from '../../../../remediator/actions/service-converged.js';
import type { SwarmServiceInfo, SwarmTask } from '../../../../remediator/actions/swarm-service.js';

function service(replicas: number | 'global', update?: SwarmServiceInfo['UpdateStatus']): SwarmServiceInfo {
  return {
    ID: 'svc1',
    Version: { Index: 20 },
    Spec: {
      Name: 'stack_ollama',
      TaskTemplate: { ForceUpdate: 3 },
      Mode: replicas === 'global' ? { Global: {} } : { Replicated: { Replicas: replicas } },
    },
    ...(update ? { UpdateStatus: update } : {}),
  };
}

function task(id: string, forceUpdate: number, state: string, err?: string): SwarmTask {
  return {
    ID: id,
    ServiceID: 'svc1',
    DesiredState: 'running',
    Spec: { ForceUpdate: forceUpdate },
    Status: { State: state, ...(err ? { Err: err } : {}) },
  };
}

test('converged: every wanted task runs with the new counter and the update completed', () => {
  const v = serviceConverged(
    service(2, { State: 'completed' }),
    [task('t2', 3, 'running'), task('t1', 3, 'running')],
    3,
  );
  assert.deepEqual(v, { state: 'converged', taskIds: ['t1', 't2'] });
});

test('pending: an old task still wanted, too few running, or the rolling update still going', () => {
  assert.equal(serviceConverged(service(1), [task('old', 2, 'running')], 3).state, 'pending');
  const starting = serviceConverged(service(2), [task('a', 3, 'running'), task('b', 3, 'starting', 'pulling')], 3);
  assert.equal(starting.state, 'pending');
  assert.match((starting as { why: string }).why, /1\/2 task\(s\) running \(states: running,starting\); pulling/);
  assert.equal(serviceConverged(service(1, { State: 'updating' }), [task('a', 3, 'running')], 3).state, 'pending');
});

test('failed: a paused or rolled back update is not waited out', () => {
  const v = serviceConverged(
    service(1, { State: 'paused', Message: 'update paused due to failure' }),
    [task('a', 3, 'running')],
    3,
  );
  assert.deepEqual(v, { state: 'failed', why: 'update paused: update paused due to failure' });
  assert.equal(serviceConverged(service(1, { State: 'rollback_completed' }), [], 3).state, 'failed');
});

test('global services need one task; any counter is fine after a stack deploy', () => {
  assert.equal(serviceConverged(service('global'), [task('a', 7, 'running')], undefined).state, 'converged');
  assert.equal(serviceConverged(service('global'), [], undefined).state, 'pending');
});

test('a newer force update supersedes the one waited for: judged on the newer counter, never waited out', () => {
  // Waiting for ForceUpdate 2 while the service is already at 3 (another remediator's update won after ours).
  const svc = service('global', { State: 'completed' });
  assert.deepEqual(serviceConverged(svc, [task('a', 3, 'running'), task('b', 3, 'running')], 2), {
    state: 'converged',
    taskIds: ['a', 'b'],
  });
  assert.equal(serviceConverged(svc, [task('a', 3, 'running'), task('b', 2, 'running')], 2).state, 'pending');
});
