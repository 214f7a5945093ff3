// What the benchmarks share: a simulator over a fake GPU state of a given size, a process's CPU time and memory
// from /proc, and the load tool (wrk, installed from Debian when missing).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseWrk, type WrkResult } from './parse-wrk.js';
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

/**
 * Installs from Debian whichever of `tools` (a command name or an absolute path -> its package) is missing, when
 * this is root; null when all are there, else a string saying why not.
 */
export async function ensureDebianTools(tools: Readonly<Record<string, string>>): Promise<string | null> {
  const present = async (tool: string) =>
    (await execa('sh', ['-c', tool.startsWith('/') ? `test -x "${tool}"` : `command -v ${tool}`], { reject: false }))
      .exitCode === 0;
  const missing = async () => {
    const out: string[] = [];
    for (const [tool, pkg] of Object.entries(tools)) if (!(await present(tool))) out.push(pkg);
    return out;
  };
  const want = await missing();
  if (want.length === 0) return null;
  if (process.getuid?.() !== 0) return `not installed and not root: apt-get install ${want.join(' ')}`;
  // No service start during the install (policy-rc.d exit 101): a bench starts its own servers.
  const r = await execa(
    'sh',
    [
      '-c',
      `printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && apt-get install -y --no-install-recommends ${want.join(' ')}; rc=$?; rm -f /usr/sbin/policy-rc.d; exit $rc`,
    ],
    { reject: false, timeout: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } },
  );
  if ((await missing()).length > 0) return `apt-get install ${want.join(' ')} failed: ${r.stderr.slice(-300)}`;
  return null;
}

export interface WrkOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: readonly string[];
  /** A Lua script for wrk, and the arguments it gets after `--`. */
  readonly script?: string;
  readonly scriptArgs?: readonly string[];
}

/** One `wrk --latency` run (at most 2 threads: the build machine has 2 cores), parsed. */
export async function runWrk(url: string, o: WrkOptions): Promise<WrkResult> {
  const args = [
    '--latency',
    `-t${Math.min(2, o.connections)}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--timeout',
    '10s',
  ];
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.script) args.push('-s', o.script);
  args.push(url);
  if (o.scriptArgs) args.push('--', ...o.scriptArgs);
  const r = await execa('wrk', args, { timeout: (o.seconds + 30) * 1000 });
  return parseWrk(r.stdout);
}
