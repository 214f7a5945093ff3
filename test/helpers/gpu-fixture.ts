import { readFileSync } from 'node:fs';
import type { NvidiaSmiResult, RunNvidiaSmi } from '../../shared/gpu/run-nvidia-smi.js';

// Compiled to dist/test/helpers/: three levels up is the repository root, where the fixtures stay as text.
const ROOT = new URL('../../../', import.meta.url);

/** A real nvidia-smi capture from test/fixtures/nvidia-smi-h100/ (or a hand-made case from test/fixtures/gpu/). */
export function fixture(name: string, dir = 'test/fixtures/nvidia-smi-h100'): string {
  return readFileSync(new URL(`${dir}/${name}`, ROOT), 'utf8');
}

/** The data line(s) of a CSV capture split the way a reader of the file would, to compare parsed values against. */
export function captureCells(name: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = fixture(name)
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { header: header!.split(', '), rows: rows.map((r) => r.split(', ')) };
}

/** $Q and $Q2 from the captures' README. */
export const Q =
  'index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,pstate'.split(
    ',',
  );
export const Q2 =
  'index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,memory.free,memory.reserved,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,pstate,ecc.errors.uncorrected.volatile.total,clocks_event_reasons.active,mig.mode.current,compute_mode'.split(
    ',',
  );

/** A RunNvidiaSmi that answers from `answer` and records each call (command, args, timeout). */
export function fakeRun(answer: (args: readonly string[]) => NvidiaSmiResult) {
  const calls: { command: string; args: readonly string[]; timeoutMs: number }[] = [];
  const run: RunNvidiaSmi = async (command, args, opts) => {
    calls.push({ command, args, timeoutMs: opts.timeoutMs });
    return answer(args);
  };
  return { run, calls };
}
