import { normalizeModelName } from '../ollama/normalize-model-name.js';
import type { RunningModel } from '../ollama/parse-ps.js';

/** The /api/ps entry of a (normalised) model name; Ollama compares names case-insensitively. */
export function findRunningModel(running: readonly RunningModel[], name: string): RunningModel | undefined {
  const wanted = name.toLowerCase();
  return running.find((entry) => [entry.name, entry.model].some((n) => canonical(n) === wanted));
}

function canonical(name: string): string {
  try {
    return normalizeModelName(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}
