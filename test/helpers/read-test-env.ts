import { existsSync, readFileSync } from 'node:fs';
import { alive } from '../../shared/proc/read-process-identity.js';
import { parseEnvFile } from './parse-env-file.js';
import { testEnvFilePath } from './test-env-file-path.js';

/** The running test environment, as test/setup/test-env.sh describes it in its env file. */
export interface TestEnv {
  /** State directory ($SENTINEL_TEST_DIR). */
  dir: string;
  envFile: string;
  /** The checkout whose dist/ and node_modules/ are in the sim image. */
  repo: string;
  /** unix:///…/docker.sock: the private daemon, never the user's. */
  dockerHost: string;
  dockerSocket: string;
  /** DOCKER_CONFIG for the docker CLI, so the user's ~/.docker stays out of it. */
  dockerConfig: string;
  dockerdPid: number;
  /** 127.0.0.1:PORT of the loopback registry. */
  registry: string;
  /** REGISTRY/sentinel-sim:test: node + the repo's dist/ and node_modules/ at /app, fake nvidia-smi, busybox. */
  simImage: string;
  /** REGISTRY/sentinel-shell:test: busybox only, CMD /bin/sh. */
  shellImage: string;
  /** 127.0.0.1:PORT the one-node Swarm manager listens on. */
  swarmAddr: string;
  /** Scratch directory for tests (on disk; each test makes and removes its own subfolder). */
  tmpDir: string;
  logDir: string;
  /** Every KEY=value of the env file, e.g. to spread into a child process's environment. */
  vars: Record<string, string>;
}

const START_HINT = 'start it with: bash test/setup/test-env.sh start (as root), or run the whole suite with npm test';

/**
 * Reads the env file of the running test environment. Throws an Error saying what is missing and
 * how to start it when the environment is not running (no env file, or its dockerd is gone).
 */
export function readTestEnv(env: NodeJS.ProcessEnv = process.env): TestEnv {
  const envFile = testEnvFilePath(env);
  if (!existsSync(envFile)) {
    throw new Error(`test environment not running: no env file ${envFile}; ${START_HINT}`);
  }
  const vars = parseEnvFile(readFileSync(envFile, 'utf8'));
  const need = (key: string): string => {
    const value = vars[key];
    if (!value)
      throw new Error(
        `test environment env file ${envFile} lacks ${key}; restart it (test-env.sh stop; test-env.sh start)`,
      );
    return value;
  };
  const dockerdPid = Number(need('SENTINEL_TEST_DOCKERD_PID'));
  const dockerSocket = need('SENTINEL_TEST_DOCKER_SOCKET');
  if (!alive(dockerdPid) || !existsSync(dockerSocket)) {
    throw new Error(
      `test environment not running: its dockerd (pid ${dockerdPid}, ${dockerSocket}) is gone; ${START_HINT}`,
    );
  }
  return {
    dir: need('SENTINEL_TEST_DIR'),
    envFile,
    repo: need('SENTINEL_TEST_REPO'),
    dockerHost: need('DOCKER_HOST'),
    dockerSocket,
    dockerConfig: need('DOCKER_CONFIG'),
    dockerdPid,
    registry: need('SENTINEL_TEST_REGISTRY'),
    simImage: need('SENTINEL_TEST_SIM_IMAGE'),
    shellImage: need('SENTINEL_TEST_SHELL_IMAGE'),
    swarmAddr: need('SENTINEL_TEST_SWARM_ADDR'),
    tmpDir: need('SENTINEL_TEST_TMP'),
    logDir: need('SENTINEL_TEST_LOG_DIR'),
    vars,
  };
}
