import type Dockerode from 'dockerode';
import type { GpuConfig, ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { ComputeApp } from '../../shared/gpu/parse-compute-apps.js';
import type { Logger } from '../../shared/log/create-logger.js';
import type { OllamaClient } from '../../shared/ollama/ollama-client.js';
import type { OwnNode } from '../node/own-node.js';

/**
 * The contract between the remediator's policy engine and its healing actions. The engine decides WHAT and WHEN;
 * an action does one bounded step, proves its target first, never touches the remediator itself, and reports every
 * call it made (or would make in dry-run) so the incident log explains exactly what happened.
 */

export type ActionName =
  | 'warm_up'
  | 'reload'
  | 'kill_runner'
  | 'kill_orphans'
  | 'restart_container'
  | 'recreate_container'
  | 'force_update_service'
  | 'redeploy_stack'
  | 'pull_model';

export const ACTION_NAMES: readonly ActionName[] = [
  'warm_up',
  'reload',
  'kill_runner',
  'kill_orphans',
  'restart_container',
  'recreate_container',
  'force_update_service',
  'redeploy_stack',
  'pull_model',
];

/** Who the remediator is, so no action ever hits its own process, container, service or stack. */
export interface SelfIdentity {
  /** PID in the namespace of `procRoot` (host PID when the host /proc is mounted). */
  readonly pid: number;
  /** Full 64-hex id of the remediator's own container; null when it runs on the host. */
  readonly containerId: string | null;
  /** Full Swarm service name ("<stack>_<service>") when it runs as a Swarm task. */
  readonly swarmService?: string;
  readonly stack?: string;
}

/** Upper bounds of each kind of wait; every action finishes within them (plus the Docker socket timeout). */
export interface ActionTimeouts {
  /** One Docker API call (inspect, list, restart request...). */
  readonly dockerMs: number;
  /** Until a restarted/started container runs again. */
  readonly containerReadyMs: number;
  /** Until a force-updated service has converged (also each stack service after a redeploy). */
  readonly convergeMs: number;
  /** The whole `docker stack deploy` / `docker stack rm` command. */
  readonly stackCommandMs: number;
  /** A model load (warm_up, reload). */
  readonly loadMs: number;
  /** A model pull; progress stalls fail sooner (the client's stall timeout). */
  readonly pullMs: number;
  /** `nvidia-smi -L` inside the container via docker exec. */
  readonly execMs: number;
}

/** A host `ollama serve` as recorded for a host target: PID + start time name it, within one boot. */
export interface SeenHostServer {
  readonly pid: number;
  readonly startTime: number;
  /** /proc/sys/kernel/random/boot_id when it was seen: start times count from boot. */
  readonly bootId: string;
}

/** A target that a container was seen as, first and last (epoch ms). */
export interface ContainerOwner {
  readonly target: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/**
 * What the remediator has seen of each target, kept across restarts (remediator/state/target-history.ts). It is the
 * only proof that a runner whose container is gone, or whose host server is gone, was the target's: nothing is
 * killed on a guess.
 */
export interface OwnershipHistory {
  /** Records these containers as the target's, seen now (whenever the remediator lists the target's containers). */
  seenContainers(target: string, ids: readonly string[]): Promise<void>;
  /** Records the one host `ollama serve` of a host target, seen now. */
  seenHostServer(target: string, server: SeenHostServer): Promise<void>;
  /** The targets whose history holds this container id (normally none or one), with when it was seen. */
  containerOwners(containerId: string): readonly ContainerOwner[];
  /** The host servers recorded for a target. */
  hostServers(target: string): readonly SeenHostServer[];
  /** Names of the configured targets without a container selector (installed on the host). */
  readonly hostTargets: readonly string[];
}

export interface ActionDeps {
  readonly docker: Dockerode;
  readonly log: Logger;
  readonly gpu: GpuConfig;
  /** A /proc where the GPU's PIDs are visible (the host's, e.g. /host/proc); usually gpu.proc_root. */
  readonly procRoot: string;
  readonly self: SelfIdentity;
  now(): number;
  ollama(target: OllamaTargetConfig): OllamaClient;
  queryComputeApps(signal: AbortSignal): Promise<ComputeApp[]>;
  readonly timeouts: ActionTimeouts;
  /** SIGTERM -> SIGKILL grace for runner kills. */
  readonly killGraceMs: number;
  /** The daemon the docker CLI must talk to (stack deploy): the configured docker.host. */
  readonly dockerHost: string;
  /** docker CLI path; default: /usr/local/bin/docker when present, else `docker` on PATH. */
  readonly dockerCli?: string;
  /** Extra environment for the docker CLI (e.g. DOCKER_CONFIG); DOCKER_HOST always comes from `dockerHost`. */
  readonly dockerCliEnv?: Readonly<Record<string, string>>;
  /** `t` of container restart/stop, in seconds; default: the container's own StopTimeout (Docker: 10 s). */
  readonly stopTimeoutS?: number;
  /** Containers and host servers seen as each target's; without it no orphan's ownership can be proven. */
  readonly history?: OwnershipHistory;
  /**
   * This node's identity, read from its Docker now (node_scope applied). Absent with node_scope off: no node proof
   * and no refusal on a worker.
   */
  readonly ownNode?: (signal: AbortSignal) => Promise<OwnNode>;
  /** Signal delivery; default process.kill. Injected for unit tests only. */
  readonly kill?: (pid: number, signal: NodeJS.Signals) => void;
  /** Cancellable wait; default a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ActionRequest {
  readonly action: ActionName;
  readonly target: OllamaTargetConfig;
  /** Required by warm_up, reload, pull_model; optional elsewhere. */
  readonly model?: ModelConfig;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly incidentId: string;
  /** redeploy_stack: `docker stack rm`, wait until gone, then deploy (a harder reset; default false). */
  readonly removeStackFirst?: boolean;
  /**
   * Called (and awaited) with the `before` evidence once it is collected and BEFORE the first mutating call, so the
   * engine can persist it with the intent: if the remediator dies mid-step, actionHappened compares against it.
   * Not called in dry-run, nor when the action stops before mutating anything.
   */
  readonly onBefore?: (before: Record<string, unknown>) => void | Promise<void>;
  /**
   * How long the model may take to unload and load again here (reload): the verification deadline fitted to its
   * measured load time. Default: the configured load timeout.
   */
  readonly deadlineMs?: number;
  /**
   * node_scope fleet: the incident's name (fleet-gate.ts healMarker). force_update_service writes it as the service's
   * `ollama-sentinel.heal` label in the same update, and does not update a service that already carries it: another
   * manager's remediator (after a fail-over, without this one's journal) restarted the fleet for it already.
   */
  readonly healMarker?: string;
}

/**
 * done: the step was carried out (verification is separate: see remediator/verify).
 * skipped: not applicable here, nothing changed (no eligible PID, no host PID view, no stack file, dry-run): the
 *   ladder may move on.
 * failed: it was tried, or refused because the target could not be proven / is the remediator itself.
 */
export type ActionOutcome = 'done' | 'skipped' | 'failed';

export interface ActionResult {
  readonly outcome: ActionOutcome;
  readonly detail: string;
  /** Every Docker API call / signal / HTTP request made, or that WOULD be made in dry-run, human-readable. */
  readonly calls: string[];
  /**
   * Facts taken before acting that let a restarted remediator tell whether the step happened: container ids and
   * start times, service version + ForceUpdate counter, PIDs + start times, stack task ids...
   */
  readonly before?: Record<string, unknown>;
  /**
   * Set when the step found the server itself stuck (e.g. an unload request, which Ollama answers at once, timed
   * out): lighter steps cannot cure that, and the engine goes on with the restart steps. The text says what was seen.
   */
  readonly serverStuck?: string;
  /** The step changed nothing (e.g. the model never unloaded): there is nothing to verify. */
  readonly unchanged?: boolean;
}
