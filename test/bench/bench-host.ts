// What the benchmarks share: a simulator over a fake GPU state of a given size, and a process's CPU time and memory
// from /proc.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { defaultH100Gpu, defaultH100State, writeGpuState, type GpuState } from '../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim } from '../sim/ollama-sim.js';

export function benchGpuState(gpus: number, procsPerGpu: number): GpuState {
  const s = defaultH100State();
  s.gpus = Array.from({ length: gpus }, (_, i) =>
    defaultH100Gpu(
      i,
      `GPU-bench000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      `00000000:${(0x10 + i).toString(16).toUpperCase()}:00.0`,
    ),
  );
  // PIDs that do not exist here: attribution marks them exited, as with processes gone between query and /proc read.
  for (const g of s.gpus)
    for (let p = 0; p < procsPerGpu; p++)
      s.procs.push({ gpuUuid: g.uuid, pid: 3_000_000 + g.index * 100 + p, usedMiB: 1024 + p, name: 'python3' });
  return s;
}

/** utime+stime of the process and of its waited-for children (the nvidia-smi runs), in seconds. */
export function cpuSeconds(pid: number, clockTicks: number): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is [0], so utime (14th overall) is [11], stime [12], cutime [13], cstime [14].
  return { own: (Number(f[11]) + Number(f[12])) / clockTicks, children: (Number(f[13]) + Number(f[14])) / clockTicks };
}

export function memoryKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** USER_HZ here: the unit of the CPU times in /proc/<pid>/stat. */
export async function clockTicks(): Promise<number> {
  return Number((await execa('getconf', ['CLK_TCK'], { reject: false })).stdout) || 100;
}

export interface BenchSim {
  /** Temp dir for the run (config files go here too). */
  readonly dir: string;
  readonly stateFile: string;
  readonly sim: OllamaSim;
  /** Stops the simulator and removes the dir. */
  close(): Promise<void>;
}

/** A temp dir with a GPU state of `gpus` x `procsPerGpu` processes, and the Ollama simulator with `models` on it. */
export async function startBenchSim(
  prefix: string,
  gpus: number,
  procsPerGpu: number,
  models: readonly string[],
): Promise<BenchSim> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const stateFile = join(dir, 'gpu.state');
  writeGpuState(stateFile, benchGpuState(gpus, procsPerGpu));
  const sim = await startOllamaSim({ gpuStateFile: stateFile, models: [...models] });
  return {
    dir,
    stateFile,
    sim,
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
