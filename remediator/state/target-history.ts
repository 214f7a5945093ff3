import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { ContainerOwner, OwnershipHistory, SeenHostServer } from '../actions/action.js';
import { writeFileAtomic } from './write-file-atomic.js';

export const HISTORY_FILE = 'target-history.json';
/** Per target, the most recently seen are kept: enough for years of Compose re-creations, small enough to read. */
export const MAX_CONTAINERS_PER_TARGET = 200;
export const MAX_HOST_SERVERS_PER_TARGET = 32;
/** lastSeen alone moving is written at most this often (it decides nothing, it only orders evictions). */
const REFRESH_WRITE_MS = 60_000;

interface Seen {
  firstSeen: number;
  lastSeen: number;
}
type SeenContainer = Seen & { readonly id: string };
type SeenServer = Seen & SeenHostServer;
interface TargetRecord {
  containers: SeenContainer[];
  hostServers: SeenServer[];
}
/** The file: `{"version":1,"targets":{"<target>":{"containers":[...],"hostServers":[...]}}}`. */
interface HistoryFile {
  readonly version: 1;
  readonly targets: Record<string, TargetRecord>;
}

export interface HistoryOptions {
  readonly now: () => number;
  readonly warn: (fields: Record<string, unknown>, message: string) => void;
}

const CONTAINER_ID = /^[0-9a-f]{64}$/;
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/**
 * The containers (and host servers) the remediator has seen as each target's, in `data_dir/target-history.json`,
 * written atomically. Recorded whenever the remediator lists a target's containers (start-up, every diagnosis, every
 * action); read by kill_orphans, which may only kill a runner whose container (or host server) this history gives to
 * the target. Losing it only makes the remediator escalate where it would have killed: a damaged file is set aside
 * and the history starts empty. Separate from state.json so that file's format is untouched.
 */
export class TargetHistory implements OwnershipHistory {
  readonly #targets = new Map<string, TargetRecord>();
  #chain: Promise<void> = Promise.resolve();
  #lastWrite = 0;
  readonly hostTargets: readonly string[];

  private constructor(
    private readonly dir: string,
    targets: readonly OllamaTargetConfig[],
    private readonly opts: HistoryOptions,
  ) {
    this.hostTargets = targets.filter((t) => !t.container).map((t) => t.name);
    for (const t of targets) this.#targets.set(t.name, { containers: [], hostServers: [] });
  }

  static async open(dir: string, targets: readonly OllamaTargetConfig[], opts: HistoryOptions): Promise<TargetHistory> {
    const history = new TargetHistory(dir, targets, opts);
    const path = join(dir, HISTORY_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return history;
      throw err;
    }
    try {
      history.#load(JSON.parse(text) as unknown);
    } catch (err) {
      const aside = `${path}.damaged-${opts.now()}`;
      await rename(path, aside).catch(() => undefined);
      opts.warn(
        { err: (err as Error).message, file: aside },
        'target history unreadable: set aside, starting empty (orphans of containers seen before are escalated)',
      );
    }
    return history;
  }

  #load(data: unknown): void {
    const file = data as Partial<HistoryFile> | null;
    if (!file || file.version !== 1 || typeof file.targets !== 'object' || file.targets === null) {
      throw new Error(`unsupported target history (version ${JSON.stringify(file?.version)})`);
    }
    for (const [name, record] of Object.entries(file.targets)) {
      const mine = this.#targets.get(name);
      if (!mine) continue; // a target no longer configured: nothing may be killed for it
      const containers = Array.isArray(record?.containers) ? record.containers : [];
      mine.containers = containers.filter(
        (c) => typeof c?.id === 'string' && CONTAINER_ID.test(c.id) && isTime(c.firstSeen) && isTime(c.lastSeen),
      );
      const servers = Array.isArray(record?.hostServers) ? record.hostServers : [];
      mine.hostServers = servers.filter(
        (s) =>
          Number.isSafeInteger(s?.pid) &&
          Number.isSafeInteger(s?.startTime) &&
          typeof s?.bootId === 'string' &&
          s.bootId !== '' &&
          isTime(s.firstSeen) &&
          isTime(s.lastSeen),
      );
    }
  }

  seenContainers(target: string, ids: readonly string[]): Promise<void> {
    const record = this.#targets.get(target);
    if (!record) return Promise.resolve();
    const now = this.opts.now();
    let added = false;
    for (const id of ids) {
      if (!CONTAINER_ID.test(id)) continue;
      const seen = record.containers.find((c) => c.id === id);
      if (seen) seen.lastSeen = now;
      else {
        record.containers.push({ id, firstSeen: now, lastSeen: now });
        added = true;
      }
    }
    record.containers = newest(record.containers, MAX_CONTAINERS_PER_TARGET);
    return this.#persist(added, now);
  }

  seenHostServer(target: string, server: SeenHostServer): Promise<void> {
    const record = this.#targets.get(target);
    if (!record || server.bootId === '') return Promise.resolve();
    const now = this.opts.now();
    const seen = record.hostServers.find(
      (s) => s.pid === server.pid && s.startTime === server.startTime && s.bootId === server.bootId,
    );
    if (seen) seen.lastSeen = now;
    else record.hostServers.push({ ...server, firstSeen: now, lastSeen: now });
    record.hostServers = newest(record.hostServers, MAX_HOST_SERVERS_PER_TARGET);
    return this.#persist(!seen, now);
  }

  containerOwners(containerId: string): readonly ContainerOwner[] {
    const owners: ContainerOwner[] = [];
    for (const [target, record] of this.#targets) {
      const c = record.containers.find((x) => x.id === containerId);
      if (c) owners.push({ target, firstSeen: c.firstSeen, lastSeen: c.lastSeen });
    }
    return owners;
  }

  hostServers(target: string): readonly SeenHostServer[] {
    return (this.#targets.get(target)?.hostServers ?? []).map(({ pid, startTime, bootId }) => ({
      pid,
      startTime,
      bootId,
    }));
  }

  /** Resolves once every write asked for so far is done (for shutdown and tests). */
  flushed(): Promise<void> {
    return this.#chain;
  }

  /** Writes are queued one after another (the temp file name is per process); a failed one is logged, not thrown. */
  #persist(changed: boolean, now: number): Promise<void> {
    if (!changed && now - this.#lastWrite < REFRESH_WRITE_MS) return this.#chain;
    this.#lastWrite = now;
    const text = JSON.stringify({ version: 1, targets: Object.fromEntries(this.#targets) } satisfies HistoryFile);
    this.#chain = this.#chain.then(() =>
      writeFileAtomic(join(this.dir, HISTORY_FILE), text).catch((err: Error) =>
        this.opts.warn({ err: err.message }, 'cannot write the target history (kept in memory)'),
      ),
    );
    return this.#chain;
  }
}

function newest<T extends Seen>(list: T[], max: number): T[] {
  return list.length <= max ? list : [...list].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, max);
}
