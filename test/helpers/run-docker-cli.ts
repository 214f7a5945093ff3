import { execa } from 'execa';
import type { TestEnv } from './read-test-env.js';

export interface DockerCliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunDockerCliOptions {
  /** Text for stdin. */
  input?: string;
  /** Default 120 s. */
  timeoutMs?: number;
  /** Default true: a non-zero exit throws, with the command and stderr in the message. */
  reject?: boolean;
}

/**
 * Runs the docker CLI against the test environment's private daemon (for what dockerode cannot do:
 * `docker stack`, `docker push`). DOCKER_HOST/DOCKER_CONFIG are set here, never inherited.
 */
export async function runDockerCli(
  testEnv: Pick<TestEnv, 'dockerHost' | 'dockerConfig'>,
  args: readonly string[],
  options: RunDockerCliOptions = {},
): Promise<DockerCliResult> {
  const result = await execa('docker', args, {
    env: { DOCKER_HOST: testEnv.dockerHost, DOCKER_CONFIG: testEnv.dockerConfig, DOCKER_CLI_HINTS: 'false' },
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    timeout: options.timeoutMs ?? 120_000,
    reject: false,
  });
  const outcome = { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
  if ((options.reject ?? true) && outcome.exitCode !== 0) {
    const why = result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}`;
    throw new Error(`docker ${args.join(' ')}: ${why}\n${outcome.stderr || outcome.stdout}`);
  }
  return outcome;
}
