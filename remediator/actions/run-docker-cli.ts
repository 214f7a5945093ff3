import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { ActionDeps } from './action.js';

export interface DockerCliOutcome {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** The docker CLI this host has: the newer client in /usr/local/bin first, else whatever PATH finds. */
export function dockerCliPath(deps: Pick<ActionDeps, 'dockerCli'>): string {
  if (deps.dockerCli) return deps.dockerCli;
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
}

/**
 * Runs the docker CLI for what only it does (`docker stack deploy` is client-side). argv only, no shell: stack names
 * and file paths are never interpreted. DOCKER_HOST is the configured daemon; the rest of the environment stays, since
 * the stack file may interpolate ${VARS} from it. The whole process group is killed at the deadline or on abort.
 */
export async function runDockerCli(
  deps: Pick<ActionDeps, 'dockerCli' | 'dockerCliEnv' | 'dockerHost'>,
  args: readonly string[],
  opts: { readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<DockerCliOutcome> {
  const result = await execa(dockerCliPath(deps), args, {
    env: { ...deps.dockerCliEnv, DOCKER_HOST: deps.dockerHost, DOCKER_CLI_HINTS: 'false' },
    extendEnv: true,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 2_000,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 4 * 1024 * 1024,
    encoding: 'utf8',
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut === true,
  };
}
