import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetEnvFilePath, fleetEnvSkip, readFleetEnv } from '../../helpers/read-fleet-env.js';

const SETUP_SCRIPT = fileURLToPath(new URL('../../../../test/setup/fleet-swarm.sh', import.meta.url));

function envText(dir: string, pids: readonly number[]): string {
  return [
    '# test',
    `SENTINEL_FLEET_DIR=${dir}`,
    `SENTINEL_FLEET_ENV_FILE=${dir}/env`,
    'SENTINEL_FLEET_REPO=/repo',
    'SENTINEL_FLEET_NODES=1 2 3',
    'SENTINEL_FLEET_GPU_NODES=2 3',
    'SENTINEL_FLEET_GPU_LABEL=ollama-sentinel.gpu=true',
    'SENTINEL_FLEET_IMAGE=sentinel-fleet/ollama-sentinel:test',
    'SENTINEL_FLEET_BRIDGE_ADDR=198.18.0.1',
    `SENTINEL_FLEET_BY_ID=${dir}/by-id`,
    `SENTINEL_FLEET_TMP=${dir}/tmp`,
    `SENTINEL_FLEET_LOG_DIR=${dir}/logs`,
    `DOCKER_CONFIG=${dir}/docker-config`,
    ...[1, 2, 3].flatMap((n) => [
      `SENTINEL_FLEET_NODE${n}_SOCKET=${dir}/n${n}.sock`,
      `SENTINEL_FLEET_NODE${n}_ADDR=198.18.0.1${n}`,
      `SENTINEL_FLEET_NODE${n}_ID=node${n}id`,
      `SENTINEL_FLEET_NODE${n}_PID=${pids[n - 1]}`,
      `SENTINEL_FLEET_NODE${n}_NETNS=sfleet${n}`,
    ]),
    '',
  ].join('\n');
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'read-fleet-env-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fakeSockets(dir: string): Promise<void> {
  // Stand-ins for the sockets: only their existence is checked.
  for (const n of [1, 2, 3]) await writeFile(join(dir, `n${n}.sock`), '');
}

test('the env file path: explicit file, else the state dir, else the default dir', () => {
  assert.equal(fleetEnvFilePath({ SENTINEL_FLEET_ENV_FILE: '/x/e', SENTINEL_FLEET_DIR: '/y' }), '/x/e');
  assert.equal(fleetEnvFilePath({ SENTINEL_FLEET_DIR: '/y/' }), '/y/env');
  assert.equal(fleetEnvFilePath({}), '/var/tmp/sentinel-fleet/env');
});

test('a running fleet is read into its nodes, GPU nodes marked', async () => {
  await withDir(async (dir) => {
    await fakeSockets(dir);
    await writeFile(join(dir, 'env'), envText(dir, [process.pid, process.pid, process.pid]));
    const fleet = readFleetEnv({ SENTINEL_FLEET_DIR: dir });
    assert.deepEqual(
      fleet.nodes.map((n) => [n.index, n.addr, n.id, n.gpu, n.dockerHost]),
      [
        [1, '198.18.0.11', 'node1id', false, `unix://${dir}/n1.sock`],
        [2, '198.18.0.12', 'node2id', true, `unix://${dir}/n2.sock`],
        [3, '198.18.0.13', 'node3id', true, `unix://${dir}/n3.sock`],
      ],
    );
    assert.equal(fleet.image, 'sentinel-fleet/ollama-sentinel:test');
    assert.equal(fleet.byIdDir, `${dir}/by-id`);
    assert.equal(fleetEnvSkip({ SENTINEL_FLEET_DIR: dir }), false);
  });
});

test("one node's dockerd gone: the fleet counts as not running, and the message names the node", async () => {
  await withDir(async (dir) => {
    await fakeSockets(dir);
    // pid 2^22+1 is above Linux's pid_max ceiling, so no process can have it
    await writeFile(join(dir, 'env'), envText(dir, [process.pid, 4194305, process.pid]));
    assert.throws(() => readFleetEnv({ SENTINEL_FLEET_DIR: dir }), /node 2's dockerd \(pid 4194305.*\) is gone/);
  });
});

test('fleetEnvSkip gives the reason, or throws when the fleet is required (npm test started it)', async () => {
  await withDir(async (dir) => {
    const reason = fleetEnvSkip({ SENTINEL_FLEET_DIR: dir });
    assert.match(String(reason), /test fleet not running: no env file .*fleet-swarm\.sh start/);
    assert.throws(() => fleetEnvSkip({ SENTINEL_FLEET_DIR: dir, SENTINEL_FLEET_REQUIRE_ENV: '1' }), /not running/);
  });
});

test('fleet-swarm.sh writes every key the reader needs', () => {
  // Its env file lines are `echo "KEY=..."`, per node `echo "SENTINEL_FLEET_NODE${n}_KEY=..."`.
  const script = readFileSync(SETUP_SCRIPT, 'utf8');
  const written = new Set(
    [...script.matchAll(/echo "([A-Z_]+(?:\$\{n\}_[A-Z]+)?)=/g)].map((m) => m[1]!.replace('${n}', 'N')),
  );
  const needed = envText('/d', [1, 1, 1])
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => line.slice(0, line.indexOf('=')).replace(/^SENTINEL_FLEET_NODE\d/, 'SENTINEL_FLEET_NODEN'));
  assert.ok(written.size > 10, `found the env file lines in ${SETUP_SCRIPT}`);
  for (const key of new Set(needed)) assert.ok(written.has(key), `fleet-swarm.sh writes ${key}`);
});
