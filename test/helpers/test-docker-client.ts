import Docker from 'dockerode';
import type { TestEnv } from './read-test-env.js';

/**
 * A dockerode client for the test environment's private daemon. docker-modem lets DOCKER_HOST and
 * friends from the environment win over socketPath, so each such key is set explicitly here.
 */
export function testDockerClient(testEnv: Pick<TestEnv, 'dockerSocket'>): Docker {
  return new Docker({
    socketPath: testEnv.dockerSocket,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    version: undefined,
    timeout: 60_000,
  });
}
