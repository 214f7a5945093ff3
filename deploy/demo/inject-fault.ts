import type { ModelRequestFields } from '../../shared/ollama/model-request-fields.js';
import { fetchJson } from './chain-observers.js';

/**
 * The calls of the simulator's control API (test/sim/README.md, "Control API") the demo needs. The simulator runs as
 * its own process, so the demo speaks HTTP to it rather than importing the tests' client (deploy/ never imports
 * test/); the bodies are subsets of the simulator's SimFaults and SimConfig (test/sim/sim-control.ts).
 */
type SimControlCall =
  | { readonly path: 'faults'; readonly body: { readonly cpuFallback: boolean } }
  | { readonly path: 'config'; readonly body: { readonly partialOffloadRatio: number | null } }
  | { readonly path: 'expire'; readonly body: { readonly model: string } }
  | { readonly path: 'reset' };

async function simControl(ollamaUrl: string, call: SimControlCall): Promise<void> {
  await fetchJson(`${ollamaUrl}/_sim/${call.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...('body' in call ? { body: JSON.stringify(call.body) } : {}),
    timeoutMs: 10_000,
  });
}

/**
 * Unloads `fields.model` as if its keep_alive ran out, then loads it again with exactly the fields every component
 * sends (so the exporter's probe does not reload it once more). Whatever fault the simulator has armed decides where
 * the new runner lands.
 */
async function reloadModel(ollamaUrl: string, fields: ModelRequestFields): Promise<void> {
  await simControl(ollamaUrl, { path: 'expire', body: { model: fields.model } }).catch((err: Error) => {
    if (!/404/.test(err.message)) throw err; // not loaded right now: the load below is the reload
  });
  // An empty prompt only loads the model (Ollama's documented "load" request).
  await fetchJson(`${ollamaUrl}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: fields.model,
      keep_alive: fields.keep_alive,
      options: fields.options,
      stream: false,
    }),
    timeoutMs: 120_000,
  });
}

/**
 * The silent CPU fallback: Ollama reloads a model (keep_alive expiry, new options, a crash) and the new runner finds
 * no usable GPU, so /api/ps lists it with size_vram 0 and nothing complains. A container restart re-initialises the
 * GPU: the diagnosis calls it model_on_cpu and suggests a restart.
 */
export async function injectCpuFallback(ollamaUrl: string, fields: ModelRequestFields): Promise<void> {
  await simControl(ollamaUrl, { path: 'faults', body: { cpuFallback: true } });
  await reloadModel(ollamaUrl, fields);
}

/**
 * A partial offload: after a reload only `ratio` of the model fits in VRAM (too large a context, other VRAM users).
 * A restart cannot fix that, so the diagnosis escalates it to humans.
 */
export async function injectPartialOffload(
  ollamaUrl: string,
  fields: ModelRequestFields,
  ratio: number,
): Promise<void> {
  await simControl(ollamaUrl, { path: 'config', body: { partialOffloadRatio: ratio } });
  await reloadModel(ollamaUrl, fields);
}

/** Clears every simulator fault and the partial offload, then reloads the model onto the GPU. */
export async function clearFaults(ollamaUrl: string, fields: ModelRequestFields): Promise<void> {
  await simControl(ollamaUrl, { path: 'reset' });
  await simControl(ollamaUrl, { path: 'config', body: { partialOffloadRatio: null } });
  await reloadModel(ollamaUrl, fields);
}
