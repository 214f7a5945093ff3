import type { TestEnv } from './read-test-env.js';
import { runDockerCli } from './run-docker-cli.js';
import { testDockerClient } from './test-docker-client.js';
import { waitFor } from './wait-for.js';

/**
 * `docker stack rm` and wait until the stack's services, containers and networks are really gone:
 * the CLI returns at once while Swarm still stops the tasks, and a test that reuses a port or a
 * name right after would race them. Removing a stack that does not exist is fine.
 */
export async function removeStack(
  testEnv: Pick<TestEnv, 'dockerHost' | 'dockerConfig' | 'dockerSocket'>,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  await runDockerCli(testEnv, ['stack', 'rm', name], { reject: false });
  const docker = testDockerClient(testEnv);
  const filters = { label: [`com.docker.stack.namespace=${name}`] };
  await waitFor(
    async () => {
      const [services, containers, networks] = await Promise.all([
        docker.listServices({ filters }),
        docker.listContainers({ all: true, filters }),
        docker.listNetworks({ filters }),
      ]);
      return services.length + containers.length + networks.length === 0;
    },
    { timeoutMs, intervalMs: 250, what: `stack ${name} to be removed` },
  );
}
