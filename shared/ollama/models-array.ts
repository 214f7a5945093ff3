import { OllamaError } from './ollama-error.js';

/** The `models` list of /api/ps or /api/tags; a Go nil slice arrives as null. */
export function modelsArray(json: unknown, what: string): unknown[] {
  const o = object(json, what);
  if (o.models === null) return []; // Go encodes an empty nil slice as null
  if (!Array.isArray(o.models)) throw new OllamaError('bad_json', `${what}: "models" is not an array`);
  return o.models;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OllamaError('bad_json', `${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
