import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestEnv } from './read-test-env.js';
import { runDockerCli } from './run-docker-cli.js';
import { waitFor } from './wait-for.js';

export interface DeployStackOptions {
  /** Wait until every service of the stack runs all its replicas; default true. */
  waitRunning?: boolean;
  /** Default 60 s. */
  timeoutMs?: number;
}

/**
 * `docker stack deploy --resolve-image never` of a compose file (YAML text or an object). Never
 * resolving keeps Swarm from asking Docker Hub; images must already be in the loopback registry.
 * Test stacks should attach services to the host network (`networks: {hostnet: {external: true,
 * name: host}}`): ingress publishing does not answer on the test machines.
 */
export async function deployStack(
  testEnv: Pick<TestEnv, 'dockerHost' | 'dockerConfig'>,
  name: string,
  compose: string | Record<string, unknown>,
  options: DeployStackOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-stack-'));
  try {
    const file = join(dir, 'stack.yml');
    await writeFile(file, typeof compose === 'string' ? compose : stringify(compose));
    await runDockerCli(testEnv, ['stack', 'deploy', '--resolve-image', 'never', '-c', file, name], { timeoutMs });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (options.waitRunning === false) return;
  await waitFor(
    async () => {
      const { stdout } = await runDockerCli(testEnv, ['stack', 'services', name, '--format', '{{.Replicas}}']);
      const replicas = stdout.split('\n').filter(Boolean);
      // "1/1" for each service; "0/1" while a task is still starting
      return replicas.length > 0 && replicas.every((r) => /^(\d+)\/\1\b/.test(r) && !r.startsWith('0/'));
    },
    { timeoutMs, intervalMs: 250, what: `stack ${name} to run all its replicas` },
  ).catch(async (error: Error) => {
    const ps = await runDockerCli(testEnv, ['stack', 'ps', name, '--no-trunc'], { reject: false });
    throw new Error(`${error.message}\n${ps.stdout}${ps.stderr}`);
  });
}
