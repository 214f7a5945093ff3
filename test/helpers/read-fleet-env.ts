import { existsSync, readFileSync } from 'node:fs';
import { alive } from '../../shared/proc/read-process-identity.js';
import { parseEnvFile } from './parse-env-file.js';

/** One Docker Engine of the test fleet, in its own network namespace. */
export interface FleetNode {
  /** 1, 2, 3: the set-up's numbering. */
  readonly index: number;
  /** unix:///…/docker.sock of this node's dockerd. */
  readonly dockerHost: string;
  readonly socket: string;
  /** Its address on the fleet bridge (198.18.0.0/24): where its host-network services listen. */
  readonly addr: string;
  /** Its Swarm node ID. */
  readonly id: string;
  readonly dockerdPid: number;
  /** Whether it carries the GPU label. */
  readonly gpu: boolean;
}

/** The running test fleet, as test/setup/fleet-swarm.sh describes it in its env file. */
export interface FleetEnv {
  readonly dir: string;
  readonly envFile: string;
  /** The checkout whose dist/ the image was built from. */
  readonly repo: string;
  readonly nodes: readonly FleetNode[];
  /** `name=value` of the GPU node label. */
  readonly gpuLabel: string;
  /** The product image (deploy/image/build-local-image.sh), loaded into every node. */
  readonly image: string;
  /** `<dir>/<Swarm node ID>` is that node's folder: its socket is `<dir>/{{.Node.ID}}/docker.sock` in a service. */
  readonly byIdDir: string;
  /** Scratch on disk (mode 1777); each test makes and removes its own subfolder. */
  readonly tmpDir: string;
  readonly logDir: string;
  /** DOCKER_CONFIG for the docker CLI, so the user's ~/.docker stays out of it. */
  readonly dockerConfig: string;
}

const START_HINT =
  'start it with: bash test/setup/fleet-swarm.sh start (as root), or run the whole suite with npm test';

/** Where fleet-swarm.sh writes the env file: $SENTINEL_FLEET_ENV_FILE, else $SENTINEL_FLEET_DIR/env. */
export function fleetEnvFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SENTINEL_FLEET_ENV_FILE) return env.SENTINEL_FLEET_ENV_FILE;
  return `${(env.SENTINEL_FLEET_DIR || '/var/tmp/sentinel-fleet').replace(/\/+$/, '')}/env`;
}

/**
 * Reads the env file of the running test fleet. Throws an Error saying what is missing and how to start it when the
 * fleet is not running (no env file, or one of its daemons is gone).
 */
export function readFleetEnv(env: NodeJS.ProcessEnv = process.env): FleetEnv {
  const envFile = fleetEnvFilePath(env);
  if (!existsSync(envFile)) throw new Error(`test fleet not running: no env file ${envFile}; ${START_HINT}`);
  const vars = parseEnvFile(readFileSync(envFile, 'utf8'));
  const need = (key: string): string => {
    const value = vars[key];
    if (!value) {
      throw new Error(
        `test fleet env file ${envFile} lacks ${key}; restart it (fleet-swarm.sh stop; fleet-swarm.sh start)`,
      );
    }
    return value;
  };
  const gpuNodes = new Set(need('SENTINEL_FLEET_GPU_NODES').split(' '));
  const nodes = need('SENTINEL_FLEET_NODES')
    .split(' ')
    .map((n): FleetNode => {
      const socket = need(`SENTINEL_FLEET_NODE${n}_SOCKET`);
      const dockerdPid = Number(need(`SENTINEL_FLEET_NODE${n}_PID`));
      if (!alive(dockerdPid) || !existsSync(socket)) {
        throw new Error(
          `test fleet not running: node ${n}'s dockerd (pid ${dockerdPid}, ${socket}) is gone; ${START_HINT}`,
        );
      }
      return {
        index: Number(n),
        dockerHost: `unix://${socket}`,
        socket,
        addr: need(`SENTINEL_FLEET_NODE${n}_ADDR`),
        id: need(`SENTINEL_FLEET_NODE${n}_ID`),
        dockerdPid,
        gpu: gpuNodes.has(n),
      };
    });
  return {
    dir: need('SENTINEL_FLEET_DIR'),
    envFile,
    repo: need('SENTINEL_FLEET_REPO'),
    nodes,
    gpuLabel: need('SENTINEL_FLEET_GPU_LABEL'),
    image: need('SENTINEL_FLEET_IMAGE'),
    byIdDir: need('SENTINEL_FLEET_BY_ID'),
    tmpDir: need('SENTINEL_FLEET_TMP'),
    logDir: need('SENTINEL_FLEET_LOG_DIR'),
    dockerConfig: need('DOCKER_CONFIG'),
  };
}

/**
 * For `describe(name, { skip: fleetEnvSkip() }, ...)`: false when the test fleet runs, else the reason to skip.
 * When the test command started the fleet (SENTINEL_FLEET_REQUIRE_ENV=1) a missing fleet is an error instead, so a
 * run can never pass by skipping the fleet tests.
 */
export function fleetEnvSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  try {
    readFleetEnv(env);
    return false;
  } catch (error) {
    if (env.SENTINEL_FLEET_REQUIRE_ENV === '1') throw error;
    return (error as Error).message;
  }
}
