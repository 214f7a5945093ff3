import { OllamaError } from './ollama-error.js';
import { modelsArray } from './models-array.js';

/** One entry of GET /api/tags: a model in the server's local store. */
export interface LocalModel {
  readonly name: string;
  readonly model: string;
  /** Bytes on disk. */
  readonly size: number;
  readonly digest: string;
  readonly modified_at?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Cloud stubs (remote_host set) take no local memory. */
  readonly remote_host?: string;
}

export function parseTagsResponse(json: unknown): LocalModel[] {
  return modelsArray(json, '/api/tags').map((entry, i) => {
    if (entry === null || typeof entry !== 'object')
      throw new OllamaError('bad_json', `/api/tags models[${i}] is not an object`);
    const o = entry as Record<string, unknown>;
    const name =
      typeof o.name === 'string' && o.name ? o.name : typeof o.model === 'string' && o.model ? o.model : undefined;
    if (name === undefined) throw new OllamaError('bad_json', `/api/tags models[${i}] has no name`);
    return {
      name,
      model: typeof o.model === 'string' && o.model ? o.model : name,
      size: typeof o.size === 'number' && Number.isFinite(o.size) ? o.size : 0,
      digest: typeof o.digest === 'string' ? o.digest : '',
      ...(typeof o.modified_at === 'string' ? { modified_at: o.modified_at } : {}),
      ...(o.details && typeof o.details === 'object' ? { details: o.details as Record<string, unknown> } : {}),
      ...(typeof o.remote_host === 'string' && o.remote_host ? { remote_host: o.remote_host } : {}),
    };
  });
}
