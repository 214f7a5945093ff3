import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  defaultH100State,
  memoryFreeMiB,
  memoryUsedMiB,
  parseGpuState,
  readGpuState,
  serializeGpuState,
  updateGpuState,
  updateGpuStateSync,
  writeGpuState,
} from '../../sim/gpu-state.js';

const run = promisify(execFile);
const gpuStateModule = fileURLToPath(new URL('../../sim/gpu-state.js', import.meta.url));

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-state-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a state with processes, faults and odd names survives serialize -> parse', () => {
  const s = defaultH100State();
  s.gpus[0]!.lost = true;
  s.gpus[0]!.clocksEventReasons = 0x48;
  s.gpus[0]!.eccUncorrectedVolatileTotal = 3;
  s.procs.push({ gpuUuid: s.gpus[0]!.uuid, pid: 4242, usedMiB: 13000, name: '/usr/bin/my app, with commas' });
  s.faults.push({ target: 'apps', kind: 'delay', arg: '250' }, { target: 'all', kind: 'hang' });
  s.containerNvmlLost = true;
  assert.deepEqual(parseGpuState(serializeGpuState(s)), s);
});

test('parse ignores comments and unknown records, and rejects malformed known ones', () => {
  const text = serializeGpuState(defaultH100State()) + '# note\nfuture_record 1 2 3\n\n';
  assert.deepEqual(parseGpuState(text), defaultH100State());
  assert.throws(() => parseGpuState('gpu 0 GPU-x 0000:00:01.0 abc\n'), /gpu state line 1/);
  assert.throws(() => parseGpuState('fault gpu explode\n'), /unknown fault kind/);
});

test('memory used/free derive from processes and other users', () => {
  const s = defaultH100State();
  const g = s.gpus[0]!;
  g.memoryOtherUsedMiB = 9;
  s.procs.push(
    { gpuUuid: g.uuid, pid: 1, usedMiB: 1000, name: 'a' },
    { gpuUuid: 'GPU-other', pid: 2, usedMiB: 77, name: 'b' },
  );
  assert.equal(memoryUsedMiB(s, g), 1009);
  assert.equal(memoryFreeMiB(s, g), g.memoryTotalMiB - g.memoryReservedMiB - 1009);
});

test('write is atomic (no temp file left) and update starts from the default when the file is missing', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gpu.state');
  const after = await updateGpuState(file, (s) => {
    s.gpus[0]!.utilizationGpuPct = 55;
  });
  assert.equal(readGpuState(file).gpus[0]!.utilizationGpuPct, 55);
  assert.deepEqual(readGpuState(file), after);
  writeGpuState(file, defaultH100State());
  assert.deepEqual(readdirSync(dir), ['gpu.state']);
});

test('concurrent read-modify-write from several processes loses no update', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gpu.state');
  writeGpuState(file, defaultH100State());
  const script = `
    const { updateGpuStateSync } = await import(${JSON.stringify(gpuStateModule)});
    for (let i = 0; i < 25; i++) updateGpuStateSync(process.argv[1], (s) => { s.gpus[0].memoryOtherUsedMiB += 1; });`;
  const inProcess = (async () => {
    for (let i = 0; i < 25; i++)
      await updateGpuState(file, (s) => {
        s.gpus[0]!.memoryOtherUsedMiB += 1;
      });
  })();
  const children = [1, 2, 3].map(() => run(process.execPath, ['--input-type=module', '-e', script, file]));
  await Promise.all([...children, inProcess]);
  assert.equal(readGpuState(file).gpus[0]!.memoryOtherUsedMiB, 100);
  assert.deepEqual(readdirSync(dir), ['gpu.state']);
});

test('a stale lock left by a crashed writer is broken; a fresh one times out', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'gpu.state');
  writeFileSync(`${file}.lock`, '99999\n');
  assert.throws(() => updateGpuStateSync(file, () => {}, { timeoutMs: 50 }), /could not lock/);
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(`${file}.lock`, old, old);
  updateGpuStateSync(
    file,
    (s) => {
      s.gpus[0]!.temperatureC = 80;
    },
    { timeoutMs: 500 },
  );
  assert.equal(readGpuState(file).gpus[0]!.temperatureC, 80);
});
