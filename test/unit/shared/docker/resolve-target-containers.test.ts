import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTargetContainers } from '../../../../shared/docker/resolve-target-containers.js';
import { swarmServiceName } from '../../../../shared/docker/container-list-filter.js';
import { FakeDockerApi, hexId } from '../../../helpers/fake-docker-api.js';

const compose = (project: string, service: string, extra: Record<string, string> = {}) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.oneoff': 'False',
  ...extra,
});

test('resolveTargetContainers: compose service, one-off and stopped containers and other projects excluded', async () => {
  const docker = new FakeDockerApi([
    {
      id: hexId('a'),
      name: 'ai-ollama-1',
      labels: compose('ai', 'ollama'),
      pid: 101,
      startedAt: '2026-11-22T10:00:00Z',
    },
    {
      id: hexId('b'),
      name: 'ai-ollama-run-5f2c',
      labels: compose('ai', 'ollama', { 'com.docker.compose.oneoff': 'True' }),
      pid: 102,
    },
    { id: hexId('c'), name: 'ai-ollama-2', labels: compose('ai', 'ollama'), running: false },
    { id: hexId('d'), name: 'other-ollama-1', labels: compose('other', 'ollama'), pid: 104 },
    { id: hexId('e'), name: 'ai-webui-1', labels: compose('ai', 'webui'), pid: 105 },
  ]);
  const found = await resolveTargetContainers(docker, { kind: 'compose', project: 'ai', service: 'ollama' });
  assert.deepEqual(found, [
    {
      id: hexId('a'),
      name: 'ai-ollama-1',
      image: 'ollama/ollama:latest',
      running: true,
      pid: 101,
      startedAt: Date.parse('2026-11-22T10:00:00Z') / 1000,
      labels: compose('ai', 'ollama'),
    },
  ]);
});

test('resolveTargetContainers: swarm tasks by service name, stack prefix added once', async () => {
  const svc = (name: string, stack: string) => ({
    'com.docker.swarm.service.name': name,
    'com.docker.stack.namespace': stack,
  });
  const docker = new FakeDockerApi([
    { id: hexId('t1'), name: 'llm_ollama.1.abc', labels: svc('llm_ollama', 'llm'), pid: 201 },
    { id: hexId('t2'), name: 'llm_ollama.2.def', labels: svc('llm_ollama', 'llm'), pid: 202 },
    { id: hexId('t3'), name: 'llm_ollama-old.1.x', labels: svc('llm_ollama-old', 'llm'), pid: 203 },
  ]);
  assert.equal(swarmServiceName({ service: 'ollama', stack: 'llm' }), 'llm_ollama');
  assert.equal(swarmServiceName({ service: 'llm_ollama', stack: 'llm' }), 'llm_ollama');
  const short = await resolveTargetContainers(docker, { kind: 'swarm', service: 'ollama', stack: 'llm' });
  const full = await resolveTargetContainers(docker, { kind: 'swarm', service: 'llm_ollama' });
  assert.deepEqual(
    short.map((c) => c.pid),
    [201, 202],
  );
  assert.deepEqual(
    full.map((c) => c.name),
    ['llm_ollama.1.abc', 'llm_ollama.2.def'],
  );
});

test('resolveTargetContainers: plain container by exact name (not by substring or regex)', async () => {
  const docker = new FakeDockerApi([
    { id: hexId('o'), name: 'ollama', pid: 301 },
    { id: hexId('p'), name: 'ollama-backup', pid: 302 },
    { id: hexId('q'), name: 'my-ollama', pid: 303 },
  ]);
  const found = await resolveTargetContainers(docker, { kind: 'container', name: 'ollama' });
  assert.deepEqual(
    found.map((c) => c.id),
    [hexId('o')],
  );
  const none = await resolveTargetContainers(docker, { kind: 'container', name: 'olla.a' });
  assert.deepEqual(none, []);
});

test('resolveTargetContainers: a container removed between list and inspect is left out', async () => {
  const docker = new FakeDockerApi([{ id: hexId('gone'), name: 'ollama', pid: 1 }]);
  const racing = {
    listContainers: docker.listContainers.bind(docker),
    getContainer: (id: string) => {
      docker.containers.delete(id);
      return docker.getContainer(id);
    },
  };
  assert.deepEqual(await resolveTargetContainers(racing, { kind: 'container', name: 'ollama' }), []);
});

test('resolveTargetContainers: daemon errors propagate', async () => {
  const docker = new FakeDockerApi();
  docker.failWith = new Error('connect ENOENT /var/run/docker.sock');
  await assert.rejects(resolveTargetContainers(docker, { kind: 'container', name: 'ollama' }), /ENOENT/);
});
