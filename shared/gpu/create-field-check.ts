import type { Logger } from 'pino';
import { parseHelpQuery, type FieldCatalog } from './parse-help-query.js';
import { NvidiaSmiError, nvidiaSmiFailure, type RunNvidiaSmi } from './run-nvidia-smi.js';

export interface CheckedFields {
  /** The wanted fields this driver accepts, in the wanted order. */
  readonly fields: readonly string[];
  /** Wanted fields this driver lacks (left out of every query). */
  readonly dropped: readonly string[];
  readonly catalog: FieldCatalog;
}

export interface FieldCheck {
  /** Runs the help query the first time (and after a failure or reset); cached once it succeeds. */
  resolve(signal: AbortSignal): Promise<CheckedFields>;
  /** Forget the cached check, e.g. when nvidia-smi rejects a field after a driver upgrade. */
  reset(): void;
}

export interface FieldCheckOptions {
  readonly command: string;
  readonly wanted: readonly string[];
  /** Fields without which querying is pointless: missing ones are an error, not a drop. */
  readonly required?: readonly string[];
  /** "--help-query-gpu" (default) or "--help-query-compute-apps". */
  readonly helpArg?: string;
  readonly timeoutMs: number;
  readonly run: RunNvidiaSmi;
  readonly log: Logger;
}

/**
 * One unknown field makes nvidia-smi reject the whole query (exit 2), so the wanted fields are checked against
 * `--help-query-gpu` once and the ones this driver lacks are dropped (and logged). A failed help query is never
 * replaced by a guess: it fails this collection and is retried on the next one.
 */
export function createFieldCheck(opts: FieldCheckOptions): FieldCheck {
  const helpArg = opts.helpArg ?? '--help-query-gpu';
  let cached: CheckedFields | undefined;

  async function check(signal: AbortSignal): Promise<CheckedFields> {
    const result = await opts.run(opts.command, [helpArg], { signal, timeoutMs: opts.timeoutMs });
    if (result.exitCode !== 0) throw nvidiaSmiFailure(result, helpArg);
    const catalog = parseHelpQuery(result.stdout);
    if (catalog.accepted.size === 0) {
      throw new NvidiaSmiError('parse', `nvidia-smi ${helpArg} listed no fields: ${result.stdout.slice(0, 200)}`);
    }
    const fields = opts.wanted.filter((f) => catalog.accepted.has(f));
    const dropped = opts.wanted.filter((f) => !catalog.accepted.has(f));
    const missing = (opts.required ?? []).filter((f) => !catalog.accepted.has(f));
    if (missing.length > 0) {
      throw new NvidiaSmiError('bad_field', `nvidia-smi ${helpArg} lacks required fields: ${missing.join(', ')}`);
    }
    if (dropped.length > 0)
      opts.log.warn({ dropped, helpArg }, 'nvidia-smi lacks some wanted fields; querying without them');
    else opts.log.debug({ fields: fields.length, helpArg }, 'nvidia-smi accepts every wanted field');
    return { fields, dropped, catalog };
  }

  return {
    async resolve(signal) {
      cached ??= await check(signal);
      return cached;
    },
    reset() {
      cached = undefined;
    },
  };
}
