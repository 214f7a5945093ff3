/**
 * The slice of the Docker Engine API (as dockerode exposes it) that attribution and container metrics use. A
 * dockerode `Docker` satisfies it; tests pass small fakes. Only the fields read are typed.
 */
export interface DockerApi {
  listContainers(options: {
    all?: boolean;
    filters?: { [key: string]: string[] };
    abortSignal?: AbortSignal;
  }): Promise<ListedContainer[]>;
  getContainer(id: string): DockerContainerApi;
}

export interface DockerContainerApi {
  inspect(options?: { abortSignal?: AbortSignal }): Promise<InspectedContainer>;
  /** One-shot stats (`stream: false`); untyped because daemons differ by version and cgroup version. */
  stats(options?: { stream?: false; 'one-shot'?: boolean; abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * What the exporter may ask of the Engine: the reads above plus the daemon's identity. Its implementation
 * (create-read-only-docker-client.ts) can only send GET requests; the remediator keeps the full dockerode client.
 */
export interface DockerReadApi extends DockerApi {
  info(options?: { abortSignal?: AbortSignal }): Promise<EngineInfo>;
}

/** GET /info, the fields we read. `Swarm` is there on every daemon that knows Swarm mode (API 1.24+). */
export interface EngineInfo {
  /** The daemon host's name (the node's hostname in a Swarm). */
  readonly Name: string;
  readonly Swarm?: {
    /** Empty when the daemon is not part of a Swarm. */
    readonly NodeID?: string;
    /** "inactive", "pending", "active", "error" or "locked". */
    readonly LocalNodeState?: string;
    /** True on a manager (it can answer the services and tasks APIs). */
    readonly ControlAvailable?: boolean;
  };
}

/** GET /containers/json entry. */
export interface ListedContainer {
  readonly Id: string;
  readonly Names: string[];
  readonly Labels: { [label: string]: string };
  readonly State: string;
}

/** GET /containers/{id}/json, the fields we read. */
export interface InspectedContainer {
  readonly Id: string;
  /** With a leading "/". */
  readonly Name: string;
  /** Image id (sha256:...). */
  readonly Image: string;
  readonly Config: { readonly Image: string; readonly Labels: { [label: string]: string } | null };
  readonly State: {
    readonly Running: boolean;
    readonly Pid: number;
    readonly StartedAt: string;
    readonly Status: string;
  };
}

/**
 * dockerode's errors and the read-only client's carry the HTTP status of the Engine's answer; 404 = no such container
 * (it is gone).
 */
export function isDockerNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | null)?.statusCode === 404;
}
