/** Test helper: a simulator with its own GPU state file in a temp dir, both cleaned up by t.after. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultH100State, writeGpuState } from '../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim, type OllamaSimOptions } from '../sim/ollama-sim.js';

export interface TestContextLike {
  after: (fn: () => unknown) => void;
}

export async function withSim(
  t: TestContextLike,
  opts: OllamaSimOptions = {},
): Promise<{ sim: OllamaSim; gpuFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-test-'));
  const gpuFile = join(dir, 'gpu.state');
  writeGpuState(gpuFile, defaultH100State());
  const sim = await startOllamaSim({ gpuStateFile: gpuFile, loadDelayMs: 5, ...opts });
  t.after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { sim, gpuFile };
}

export async function post(
  sim: OllamaSim,
  path: string,
  body: unknown,
  method = 'POST',
): Promise<{ status: number; text: string; json: () => any }> {
  const res = await fetch(sim.url + path, {
    method,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

export function ndjson(text: string): any[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}
