import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInspectContainerById } from '../../../../shared/docker/inspect-container-by-id.js';
import { FakeDockerApi, hexId } from '../../../helpers/fake-docker-api.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('inspectContainerById: found containers are cached for ttlMs', async () => {
  const docker = new FakeDockerApi([{ id: hexId('a'), name: 'ollama', pid: 42 }]);
  const c = clock();
  const inspect = createInspectContainerById(docker, { ttlMs: 1000, now: c.now });
  assert.equal((await inspect(hexId('a')))?.name, 'ollama');
  assert.equal((await inspect(hexId('a')))?.pid, 42);
  assert.equal(docker.calls.inspect, 1);
  c.advance(1001);
  docker.containers.get(hexId('a'))!.pid = 43; // restarted meanwhile
  assert.equal((await inspect(hexId('a')))?.pid, 43);
  assert.equal(docker.calls.inspect, 2);
});

test('inspectContainerById: unknown ids are negatively cached for negativeTtlMs', async () => {
  const docker = new FakeDockerApi();
  const c = clock();
  const inspect = createInspectContainerById(docker, { negativeTtlMs: 5000, now: c.now });
  assert.equal(await inspect(hexId('x')), null);
  assert.equal(await inspect(hexId('x')), null);
  assert.equal(docker.calls.inspect, 1);
  c.advance(5001);
  assert.equal(await inspect(hexId('x')), null);
  assert.equal(docker.calls.inspect, 2);
});

test('inspectContainerById: errors other than 404 are thrown and not cached', async () => {
  const docker = new FakeDockerApi([{ id: hexId('a'), name: 'ollama', pid: 42 }]);
  const inspect = createInspectContainerById(docker);
  docker.failWith = new Error('daemon down');
  await assert.rejects(inspect(hexId('a')), /daemon down/);
  docker.failWith = null;
  assert.equal((await inspect(hexId('a')))?.pid, 42);
  assert.equal(docker.calls.inspect, 2);
});

test('inspectContainerById: concurrent lookups of one id share one request', async () => {
  const docker = new FakeDockerApi([{ id: hexId('a'), name: 'ollama', pid: 42 }]);
  const inspect = createInspectContainerById(docker);
  const results = await Promise.all([inspect(hexId('a')), inspect(hexId('a')), inspect(hexId('a'))]);
  assert.deepEqual(
    results.map((r) => r?.pid),
    [42, 42, 42],
  );
  assert.equal(docker.calls.inspect, 1);
});

test('inspectContainerById: the cache holds at most maxEntries, evicting the oldest', async () => {
  const docker = new FakeDockerApi();
  const ids = ['1', '2', '3', '4'].map(hexId);
  const inspect = createInspectContainerById(docker, { maxEntries: 3 });
  for (const id of ids) await inspect(id); // 4 misses, the first evicted
  assert.equal(docker.calls.inspect, 4);
  for (const id of ids.slice(1)) await inspect(id); // still cached
  assert.equal(docker.calls.inspect, 4);
  await inspect(ids[0]!);
  assert.equal(docker.calls.inspect, 5);
});
