import { parseDuration } from './parse-duration.js';

/**
 * A configuration value that may also come from an environment variable or a flag. Lists and maps come from the
 * file only, so only scalars are described this way.
 */
export interface ScalarField {
  readonly kind: 'string' | 'int' | 'number' | 'bool' | 'duration' | 'enum' | 'bytes';
  readonly doc: string;
  /** As a user would write it in YAML ("15s" for a duration). Absent and not optional = required. */
  readonly default?: string | number | boolean;
  readonly optional?: boolean;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export type ScalarSchema = Readonly<Record<string, ScalarField>>;

export type ScalarResult = { ok: true; value: string | number | boolean } | { ok: false; problem: string; fix: string };

/** Size units (case-insensitive), for the parser and the config schema. */
export const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** Converts a raw value (YAML value or env/flag text) to the field's type; durations become milliseconds. */
export function parseScalar(raw: unknown, field: ScalarField): ScalarResult {
  const bad = (problem: string, fix: string): ScalarResult => ({ ok: false, problem, fix });
  const shown = JSON.stringify(raw);
  switch (field.kind) {
    case 'string':
      if (typeof raw === 'string') return { ok: true, value: raw };
      if (typeof raw === 'number') return { ok: true, value: String(raw) };
      return bad(`expected text, got ${shown}`, 'write the value as a string');
    case 'enum':
      if (typeof raw === 'string' && field.values!.includes(raw)) return { ok: true, value: raw };
      return bad(`${shown} is not one of ${field.values!.join(', ')}`, `use one of: ${field.values!.join(', ')}`);
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === '1' || raw === 'yes') return { ok: true, value: true };
      if (raw === 'false' || raw === '0' || raw === 'no') return { ok: true, value: false };
      return bad(`expected true or false, got ${shown}`, 'use true or false');
    }
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (field.kind === 'int' && !Number.isInteger(n))) {
        return bad(
          `expected ${field.kind === 'int' ? 'a whole number' : 'a number'}, got ${shown}`,
          'write a plain number',
        );
      }
      return checkRange(n, field, String(n));
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === null)
        return bad(
          `${shown} is not a duration`,
          'write e.g. "500ms", "15s", "2m", "1h30m", "1d" or a number of seconds',
        );
      return checkRange(ms, field, `${ms} ms`);
    }
    case 'bytes': {
      const m =
        typeof raw === 'number'
          ? [String(raw), String(raw), '']
          : typeof raw === 'string'
            ? raw
                .trim()
                .toLowerCase()
                .match(/^(\d+(?:\.\d+)?)\s*([a-z]*)$/)
            : null;
      if (!m || !(m[2]! in BYTE_UNITS)) return bad(`${shown} is not a size`, 'write e.g. 1048576, "512KiB" or "1MiB"');
      return checkRange(Math.round(Number(m[1]) * BYTE_UNITS[m[2]!]!), field, `${raw}`);
    }
  }
}

function checkRange(n: number, field: ScalarField, shown: string): ScalarResult {
  if (field.min !== undefined && n < field.min)
    return {
      ok: false,
      problem: `${shown} is below the minimum ${field.min}`,
      fix: `use a value of at least ${describe(field, field.min)}`,
    };
  if (field.max !== undefined && n > field.max)
    return {
      ok: false,
      problem: `${shown} is above the maximum ${field.max}`,
      fix: `use a value of at most ${describe(field, field.max)}`,
    };
  return { ok: true, value: n };
}

function describe(field: ScalarField, n: number): string {
  return field.kind === 'duration' ? `${n} ms` : String(n);
}

/** The key a field is stored under in the frozen config: durations carry their unit. */
export function storedKey(key: string, field: ScalarField): string {
  return field.kind === 'duration' ? `${key}_ms` : key;
}

/** Environment variable for a config path: gpu.interval -> SENTINEL_GPU_INTERVAL. */
export function envNameFor(path: string): string {
  return `SENTINEL_${path.replace(/[.-]/g, '_').toUpperCase()}`;
}

/** Flag for a config path: exporter.listen_address -> --exporter.listen-address. */
export function flagNameFor(path: string): string {
  return `--${path.replace(/_/g, '-')}`;
}
