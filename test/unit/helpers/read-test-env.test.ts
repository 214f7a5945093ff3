import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTestEnv } from '../../helpers/read-test-env.js';
import { testEnvFilePath } from '../../helpers/test-env-file-path.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';

function envText(dir: string, pid: number, socket: string): string {
  return [
    '# test',
    `SENTINEL_TEST_DIR=${dir}`,
    `SENTINEL_TEST_ENV_FILE=${dir}/env`,
    'SENTINEL_TEST_REPO=/repo',
    `DOCKER_HOST=unix://${socket}`,
    `DOCKER_CONFIG=${dir}/docker-config`,
    `SENTINEL_TEST_DOCKER_SOCKET=${socket}`,
    `SENTINEL_TEST_DOCKERD_PID=${pid}`,
    'SENTINEL_TEST_REGISTRY=127.0.0.1:41000',
    'SENTINEL_TEST_SIM_IMAGE=127.0.0.1:41000/sentinel-sim:test',
    'SENTINEL_TEST_SHELL_IMAGE=127.0.0.1:41000/sentinel-shell:test',
    'SENTINEL_TEST_SWARM_ADDR=127.0.0.1:42000',
    `SENTINEL_TEST_TMP=${dir}/tmp`,
    `SENTINEL_TEST_LOG_DIR=${dir}/logs`,
    '',
  ].join('\n');
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'read-test-env-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the env file path: explicit file, else the state dir, else the default dir', () => {
  assert.equal(testEnvFilePath({ SENTINEL_TEST_ENV_FILE: '/x/e', SENTINEL_TEST_DIR: '/y' }), '/x/e');
  assert.equal(testEnvFilePath({ SENTINEL_TEST_DIR: '/y/' }), '/y/env');
  assert.equal(testEnvFilePath({}), '/var/tmp/sentinel-test/env');
});

test('no env file: a clear error that says how to start the environment', async () => {
  await withDir(async (dir) => {
    assert.throws(
      () => readTestEnv({ SENTINEL_TEST_DIR: dir }),
      (error: Error) => {
        assert.match(error.message, /not running: no env file/);
        assert.match(error.message, /test-env\.sh start/);
        return true;
      },
    );
  });
});

test('a running environment (live dockerd pid, socket present) is read into typed fields', async () => {
  await withDir(async (dir) => {
    const socket = join(dir, 'docker.sock');
    await writeFile(socket, ''); // stands in for the socket: only its existence is checked
    await writeFile(join(dir, 'env'), envText(dir, process.pid, socket));
    const env = readTestEnv({ SENTINEL_TEST_DIR: dir });
    assert.equal(env.dockerSocket, socket);
    assert.equal(env.dockerHost, `unix://${socket}`);
    assert.equal(env.dockerdPid, process.pid);
    assert.equal(env.registry, '127.0.0.1:41000');
    assert.equal(env.simImage, '127.0.0.1:41000/sentinel-sim:test');
    assert.equal(env.shellImage, '127.0.0.1:41000/sentinel-shell:test');
    assert.equal(env.tmpDir, `${dir}/tmp`);
    assert.equal(env.vars.SENTINEL_TEST_SWARM_ADDR, '127.0.0.1:42000');
    assert.equal(testEnvSkip({ SENTINEL_TEST_DIR: dir }), false);
  });
});

test('a stale env file whose dockerd is gone counts as not running', async () => {
  await withDir(async (dir) => {
    const socket = join(dir, 'docker.sock');
    await writeFile(socket, '');
    // pid 2^22+1 is above Linux's pid_max ceiling, so no process can have it
    await writeFile(join(dir, 'env'), envText(dir, 4194305, socket));
    assert.throws(() => readTestEnv({ SENTINEL_TEST_DIR: dir }), /dockerd \(pid 4194305.*\) is gone/);
  });
});

test('testEnvSkip gives the reason, or throws when the environment is required (npm test)', async () => {
  await withDir(async (dir) => {
    const reason = testEnvSkip({ SENTINEL_TEST_DIR: dir });
    assert.equal(typeof reason, 'string');
    assert.match(String(reason), /not running/);
    assert.throws(() => testEnvSkip({ SENTINEL_TEST_DIR: dir, SENTINEL_TEST_REQUIRE_ENV: '1' }), /not running/);
  });
});
