import { PassThrough } from 'node:stream';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { DockerApi } from '../../shared/docker/docker-api.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import type { ActionDeps } from './action.js';
import { errorText } from './call-log.js';
import { recordTargetContainers } from './record-ownership.js';
import { boundedSignal } from './wait-until.js';

const MAX_OUTPUT = 64 * 1024;

export type GpuAccessDeps = Pick<ActionDeps, 'docker' | 'log' | 'history'> & {
  readonly timeouts: Pick<ActionDeps['timeouts'], 'execMs' | 'dockerMs'>;
};

/**
 * `docker exec <container> nvidia-smi -L` through the Engine API (exec create, start, demultiplexed output, exit code
 * from exec inspect) in every running container of the target. true: all list a GPU; false: one cannot initialise
 * NVML (GPU access lost while the host still sees the GPU); null: cannot tell (no container, exec failed otherwise).
 * A timed-out exec is abandoned (the API cannot kill it); its nvidia-smi ends on its own.
 */
export async function checkContainerGpuAccess(
  target: OllamaTargetConfig,
  deps: GpuAccessDeps,
  signal: AbortSignal = new AbortController().signal,
): Promise<boolean | null> {
  if (!target.container) return null;
  const containers = await resolveTargetContainers(
    deps.docker as unknown as DockerApi,
    target.container,
    boundedSignal(signal, deps.timeouts.dockerMs),
  ).catch((err: unknown) => {
    deps.log.warn({ target: target.name, err: errorText(err) }, 'GPU access check: cannot list containers');
    return [];
  });
  if (containers.length === 0) return null;
  // Every diagnosis lists the target's containers: what kill_orphans later needs to prove a dead one was the target's.
  await recordTargetContainers(
    deps,
    target.name,
    containers.map((c) => c.id),
  );
  let answer: boolean | null = true;
  for (const c of containers) {
    const one = await execGpuList(c.id, deps, signal);
    deps.log.debug(
      {
        target: target.name,
        container: c.name,
        access: one.access,
        exitCode: one.exitCode,
        output: one.output.slice(0, 300),
      },
      'GPU access check',
    );
    if (one.access === false) return false;
    if (one.access === null) answer = null;
  }
  return answer;
}

interface ExecOutcome {
  readonly access: boolean | null;
  readonly exitCode: number | null;
  readonly output: string;
}

async function execGpuList(containerId: string, deps: GpuAccessDeps, outer: AbortSignal): Promise<ExecOutcome> {
  const signal = boundedSignal(outer, deps.timeouts.execMs);
  try {
    const exec = await deps.docker.getContainer(containerId).exec({
      Cmd: ['nvidia-smi', '-L'],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      abortSignal: signal,
    });
    const stream = (await exec.start({
      hijack: true,
      stdin: false,
      Detach: false,
      Tty: false,
      abortSignal: signal,
    })) as NodeJS.ReadableStream & { destroy(): void };
    const output = await collect(stream, deps, signal);
    // The stream can end a moment before the daemon records the exit code.
    let info: { ExitCode: number | null; Running: boolean } = { ExitCode: null, Running: true };
    for (let i = 0; i < 10 && info.Running; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      info = (await exec.inspect({
        abortSignal: boundedSignal(outer, deps.timeouts.dockerMs),
      } as object)) as typeof info;
    }
    const exitCode = info.Running ? null : info.ExitCode;
    return { access: classifyGpuList(exitCode, output), exitCode, output };
  } catch (err) {
    // No nvidia-smi in the image, container stopped meanwhile, timeout: not evidence of a lost GPU.
    return { access: null, exitCode: null, output: errorText(err) };
  }
}

/** stdout and stderr interleaved (nvidia-smi prints its errors on stdout anyway), bounded in size and time. */
function collect(
  stream: NodeJS.ReadableStream & { destroy(): void },
  deps: GpuAccessDeps,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sink = new PassThrough();
    sink.setEncoding('utf8');
    sink.on('data', (chunk: string) => {
      if (text.length < MAX_OUTPUT) text += chunk;
    });
    deps.docker.modem.demuxStream(stream, sink, sink);
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
      if (err) reject(err instanceof Error ? err : new Error(errorText(err)));
      else resolve(text);
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('exec aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (err) => finish(err));
  });
}

/**
 * Pure: what `nvidia-smi -L` run inside a container says about its GPU access. true: it listed a GPU. false: NVML
 * cannot initialise ("Failed to initialize NVML: Unknown Error"), the Docker cgroup bug that silently moves Ollama to
 * the CPU (ollama#14658, nvidia-container-toolkit#48). null: anything else (not installed, other errors, no GPU
 * configured), which is not evidence either way.
 */
export function classifyGpuList(exitCode: number | null, output: string): boolean | null {
  if (/Failed to initialize NVML/i.test(output)) return false;
  if (exitCode === 0 && /^GPU \d+:/m.test(output)) return true;
  return null;
}
