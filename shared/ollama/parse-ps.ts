import { OllamaError } from './ollama-error.js';
import { modelsArray } from './models-array.js';

/** One entry of GET /api/ps (types.go ProcessModelResponse), with expires_at read against a clock. */
export interface RunningModel {
  readonly name: string;
  readonly model: string;
  /** Total memory footprint in bytes (weights + KV cache + graph), fixed at load time. */
  readonly size: number;
  /** Bytes placed in VRAM, fixed at load time (not a live reading). */
  readonly size_vram: number;
  readonly digest: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Raw value as sent. */
  readonly expires_at?: string;
  /** Epoch milliseconds, when expires_at parsed. */
  readonly expiresAtMs?: number;
  /** Seconds from `nowMs` to expiry; negative means the unload is overdue. */
  readonly expiresInSeconds?: number;
  /** expires_at already passed: the CLI shows "Stopping..." (a model stuck here is #10119/#7606). */
  readonly stopping: boolean;
  /** Only sent by Ollama >= 0.10.0. */
  readonly context_length?: number;
}

export function parsePsResponse(json: unknown, nowMs: number): RunningModel[] {
  const models = modelsArray(json, '/api/ps');
  return models.map((entry, i) => {
    const o = object(entry, `/api/ps models[${i}]`);
    const name = str(o.name) ?? str(o.model);
    if (name === undefined) throw new OllamaError('bad_json', `/api/ps models[${i}] has no name`);
    const expiresAt = str(o.expires_at);
    const expiresAtMs = expiresAt !== undefined ? parseGoTime(expiresAt) : undefined;
    const contextLength = num(o.context_length);
    const details = o.details && typeof o.details === 'object' ? (o.details as Record<string, unknown>) : undefined;
    return {
      name,
      model: str(o.model) ?? name,
      size: num(o.size) ?? 0,
      size_vram: num(o.size_vram) ?? 0,
      digest: str(o.digest) ?? '',
      ...(details ? { details } : {}),
      ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}),
      ...(expiresAtMs !== undefined ? { expiresAtMs, expiresInSeconds: (expiresAtMs - nowMs) / 1000 } : {}),
      stopping: expiresAtMs !== undefined && expiresAtMs <= nowMs,
      ...(contextLength !== undefined ? { context_length: contextLength } : {}),
    };
  });
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OllamaError('bad_json', `${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Go marshals time.Time as RFC 3339 with up to nine fractional digits and a zone; Date.parse is only specified for
 * three. The zero time ("0001-01-01T00:00:00Z") means "unset" and is treated as absent.
 */
export function parseGoTime(value: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const fraction = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const ms = Date.parse(`${m[1]}.${fraction}${m[3]}`);
  if (!Number.isFinite(ms) || m[1]!.startsWith('0001-01-01')) return undefined;
  return ms;
}
