import { classifyNvidiaSmiFailure } from './classify-nvidia-smi-failure.js';
import { NvidiaSmiError } from './nvidia-smi-error.js';
import type { NvidiaSmiResult } from './run-nvidia-smi.js';

/** A run that exited non-zero (or printed nonsense) -> an NvidiaSmiError with a bounded reason and the text it printed. */
export function nvidiaSmiFailure(result: NvidiaSmiResult, what: string): NvidiaSmiError {
  const text = `${result.stdout}\n${result.stderr}`.trim();
  const reason = classifyNvidiaSmiFailure(result.exitCode, text);
  const shown = text.length > 500 ? `${text.slice(0, 500)}...` : text;
  return new NvidiaSmiError(reason, `nvidia-smi ${what} exited ${result.exitCode} (${reason}): ${shown || '(no output)'}`);
}
