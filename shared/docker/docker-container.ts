import type { InspectedContainer } from './docker-api.js';

/** One container as attribution and container metrics need it. */
export interface DockerContainer {
  /** Full 64-hex id, as it appears in cgroup paths. */
  readonly id: string;
  /** Without Docker's leading "/". */
  readonly name: string;
  /** Image reference the container was created from (e.g. "ollama/ollama:0.6.2"). */
  readonly image: string;
  readonly running: boolean;
  /** Host PID of the container's main process; 0 when not running. */
  readonly pid: number;
  /** Unix seconds of the last start; null when never started. */
  readonly startedAt: number | null;
  readonly labels: Readonly<Record<string, string>>;
}

/** Docker writes "0001-01-01T00:00:00Z" for a container that never started. */
function parseStartedAt(text: string): number | null {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms > 0 ? ms / 1000 : null;
}

export function toDockerContainer(info: InspectedContainer): DockerContainer {
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    running: info.State.Running,
    pid: info.State.Running ? info.State.Pid : 0,
    startedAt: parseStartedAt(info.State.StartedAt),
    labels: info.Config.Labels ?? {},
  };
}
