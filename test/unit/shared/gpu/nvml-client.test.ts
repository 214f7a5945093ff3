import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildFakeNvml } from '../../../helpers/build-fake-nvml.js';
import { repoPath } from '../../../helpers/repo-path.js';

const CLIENT = repoPath('dist', 'shared', 'gpu', 'nvml-client.js');

/** Runs a script that uses one NvmlClient and then just ends; returns whether the process exited by itself. */
function exitsByItself(library: string): { status: number | null; stdout: string } {
  const script = `
    const { NvmlClient } = await import(${JSON.stringify(CLIENT)});
    const c = new NvmlClient(${JSON.stringify(library)});
    try { await c.sample(5000); console.log('sampled'); } catch (e) { console.log(e.reason); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 8000,
    env: { ...process.env, SENTINEL_FAKE_GPU_STATE: '' },
  });
  return { status: r.status, stdout: r.stdout };
}

test('the NVML worker never keeps the exporter process alive (loaded library or missing one)', () => {
  assert.deepEqual(exitsByItself(buildFakeNvml()), { status: 0, stdout: 'sampled\n' });
  assert.deepEqual(exitsByItself('/nonexistent/libnvidia-ml.so.1'), { status: 0, stdout: 'nvml_library_missing\n' });
});
