import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { HISTORY_FILE, MAX_CONTAINERS_PER_TARGET, TargetHistory } from '../../../../remediator/state/target-history.js';

const compose: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};
const host: OllamaTargetConfig = { name: 'local', url: 'http://127.0.0.1:2', headers: {} };
const id = (n: number) => n.toString(16).padStart(64, '0');

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sentinel-history-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

function open(d: string, targets = [compose, host], clock = { now: 1_000 }, warnings: string[] = []) {
  return TargetHistory.open(d, targets, { now: () => clock.now, warn: (_f, m) => void warnings.push(m) });
}

test('containers and host servers seen are on disk and read back by the next process', async (t) => {
  const d = await dir(t);
  const clock = { now: 1_000 };
  const h = await open(d, undefined, clock);
  assert.deepEqual(h.hostTargets, ['local']);
  await h.seenContainers('main', [id(1), id(2), 'not-an-id']);
  clock.now = 5_000;
  await h.seenContainers('main', [id(2)]);
  await h.seenHostServer('local', { pid: 42, startTime: 4200, bootId: 'boot-a' });
  await h.seenContainers('nobody', [id(3)]); // not a configured target: ignored
  await h.flushed();

  const again = await open(d);
  assert.deepEqual(again.containerOwners(id(1)), [{ target: 'main', firstSeen: 1_000, lastSeen: 1_000 }]);
  assert.deepEqual(again.containerOwners(id(3)), []);
  assert.deepEqual(again.hostServers('local'), [{ pid: 42, startTime: 4200, bootId: 'boot-a' }]);
  // lastSeen alone moving is written at most once a minute: the in-memory value is newer than the file's
  assert.equal(h.containerOwners(id(2))[0]!.lastSeen, 5_000);
});

test('a target no longer configured loses its history: nothing may be killed for it', async (t) => {
  const d = await dir(t);
  const h = await open(d);
  await h.seenContainers('main', [id(1)]);
  const renamed = await open(d, [{ ...compose, name: 'renamed' }]);
  assert.deepEqual(renamed.containerOwners(id(1)), []);
});

test('bounded: the most recently seen containers are kept', async (t) => {
  const d = await dir(t);
  const clock = { now: 0 };
  const h = await open(d, [compose], clock);
  // Twenty at a time (one write each), each batch seen later than the one before.
  for (let batch = 0; batch < (MAX_CONTAINERS_PER_TARGET + 20) / 20; batch++) {
    clock.now = batch;
    await h.seenContainers(
      'main',
      Array.from({ length: 20 }, (_, i) => id(batch * 20 + i + 1)),
    );
  }
  await h.flushed();
  const file = JSON.parse(await readFile(join(d, HISTORY_FILE), 'utf8')) as {
    targets: { main: { containers: { id: string }[] } };
  };
  assert.equal(file.targets.main.containers.length, MAX_CONTAINERS_PER_TARGET);
  assert.deepEqual(h.containerOwners(id(1)), [], 'the oldest went first');
  assert.equal(h.containerOwners(id(MAX_CONTAINERS_PER_TARGET + 20)).length, 1);
});

test('concurrent records are written one after another and the file stays whole', async (t) => {
  const d = await dir(t);
  const h = await open(d);
  await Promise.all(Array.from({ length: 30 }, (_, i) => h.seenContainers('main', [id(100 + i)])));
  const again = await open(d);
  for (let i = 0; i < 30; i++) assert.equal(again.containerOwners(id(100 + i)).length, 1, `container ${i}`);
});

test('a damaged file is set aside and the history starts empty; malformed entries are dropped', async (t) => {
  const d = await dir(t);
  const warnings: string[] = [];
  await writeFile(join(d, HISTORY_FILE), '{"version":1,"targets":{"main":{"containers":[{"id":"x"}');
  const h = await open(d, undefined, { now: 7 }, warnings);
  assert.deepEqual(h.containerOwners(id(1)), []);
  assert.match(warnings.join('\n'), /set aside/);
  assert.ok((await readdir(d)).includes(`${HISTORY_FILE}.damaged-7`));

  await writeFile(
    join(d, HISTORY_FILE),
    JSON.stringify({
      version: 1,
      targets: {
        main: {
          containers: [
            { id: id(1), firstSeen: 1, lastSeen: 2 },
            { id: 'short', firstSeen: 1, lastSeen: 2 },
          ],
        },
        local: { hostServers: [{ pid: 'x' }, { pid: 5, startTime: 6, bootId: 'b', firstSeen: 1, lastSeen: 1 }] },
      },
    }),
  );
  const partial = await open(d);
  assert.equal(partial.containerOwners(id(1)).length, 1);
  assert.deepEqual(partial.hostServers('local'), [{ pid: 5, startTime: 6, bootId: 'b' }]);

  await writeFile(join(d, HISTORY_FILE), JSON.stringify({ version: 2, targets: {} }));
  const future = await open(d, undefined, { now: 8 }, warnings);
  assert.deepEqual(future.containerOwners(id(1)), []);
  assert.match(warnings.join('\n'), /set aside/);
});

test('a write that fails is logged and the record is kept in memory', async (t) => {
  const d = await dir(t);
  const warnings: string[] = [];
  const h = await open(d, undefined, { now: 1 }, warnings);
  await rm(d, { recursive: true }); // even root cannot write there now
  await h.seenContainers('main', [id(1)]);
  assert.equal(h.containerOwners(id(1)).length, 1);
  assert.match(warnings.join('\n'), /cannot write the target history/);
});
