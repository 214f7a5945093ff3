import type {
  DockerApi,
  DockerContainerApi,
  InspectedContainer,
  ListedContainer,
} from '../../shared/docker/docker-api.js';

export interface FakeContainer {
  id: string;
  name: string;
  labels?: Record<string, string>;
  running?: boolean;
  pid?: number;
  startedAt?: string;
  image?: string;
  stats?: unknown;
}

/**
 * An in-memory Docker Engine that filters like the daemon does (label "k=v", name as an unanchored regex against
 * "/name", status), counts calls, and can fail on demand.
 */
export class FakeDockerApi implements DockerApi {
  readonly containers = new Map<string, FakeContainer>();
  calls = { list: 0, inspect: 0, stats: 0 };
  /** When set, every call rejects with it (daemon down). */
  failWith: Error | null = null;

  constructor(containers: FakeContainer[] = []) {
    for (const c of containers) this.add(c);
  }

  add(c: FakeContainer): void {
    this.containers.set(c.id, c);
  }

  async listContainers(options: { all?: boolean; filters?: { [key: string]: string[] } }): Promise<ListedContainer[]> {
    this.calls.list++;
    if (this.failWith) throw this.failWith;
    const f = options.filters ?? {};
    return [...this.containers.values()]
      .filter((c) => options.all || c.running !== false)
      .filter((c) =>
        (f.label ?? []).every((kv) => {
          const [k, v] = kv.split('=', 2) as [string, string | undefined];
          return v === undefined ? k in (c.labels ?? {}) : c.labels?.[k] === v;
        }),
      )
      .filter((c) => (f.name ?? []).every((re) => new RegExp(re).test(`/${c.name}`)))
      .filter((c) => (f.status ?? []).every((s) => s === (c.running === false ? 'exited' : 'running')))
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Labels: c.labels ?? {},
        State: c.running === false ? 'exited' : 'running',
      }));
  }

  getContainer(id: string): DockerContainerApi {
    return {
      inspect: async () => {
        this.calls.inspect++;
        if (this.failWith) throw this.failWith;
        const c = this.containers.get(id);
        if (!c) throw Object.assign(new Error(`(HTTP code 404) no such container - ${id}`), { statusCode: 404 });
        const running = c.running !== false;
        const info: InspectedContainer = {
          Id: c.id,
          Name: `/${c.name}`,
          Image: `sha256:${'f'.repeat(64)}`,
          Config: { Image: c.image ?? 'ollama/ollama:latest', Labels: c.labels ?? {} },
          State: {
            Running: running,
            Pid: running ? (c.pid ?? 0) : 0,
            StartedAt: c.startedAt ?? '2026-11-22T10:00:00.123456789Z',
            Status: running ? 'running' : 'exited',
          },
        };
        return info;
      },
      stats: async () => {
        this.calls.stats++;
        if (this.failWith) throw this.failWith;
        const c = this.containers.get(id);
        if (!c) throw Object.assign(new Error(`(HTTP code 404) no such container - ${id}`), { statusCode: 404 });
        return c.stats;
      },
    };
  }
}

/** A deterministic 64-hex id from a short tag, so tests read well. */
export function hexId(tag: string): string {
  return Buffer.from(tag).toString('hex').padEnd(64, '0').slice(0, 64);
}
