import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerHost } from '../../../../shared/docker/parse-docker-host.js';

test('parseDockerHost: unix socket URL and bare path', () => {
  assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { kind: 'unix', socketPath: '/var/run/docker.sock' });
  assert.deepEqual(parseDockerHost('/run/user/1000/docker.sock'), { kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
});

test('parseDockerHost: tcp, http and https with explicit ports, IPv6 in brackets', () => {
  assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375, protocol: 'http' });
  assert.deepEqual(parseDockerHost('https://docker.example:2376/'), { kind: 'tcp', host: 'docker.example', port: 2376, protocol: 'https' });
  assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375, protocol: 'http' });
});

test('parseDockerHost: rejects what it cannot reach unambiguously', () => {
  assert.throws(() => parseDockerHost('unix://relative.sock'), /absolute/);
  assert.throws(() => parseDockerHost('tcp://127.0.0.1'), /tcp:\/\/HOST:PORT/);
  assert.throws(() => parseDockerHost('ssh://me@host'), /expected/);
  assert.throws(() => parseDockerHost('tcp://127.0.0.1:0'), /range/);
  assert.throws(() => parseDockerHost(''), /expected/);
});
