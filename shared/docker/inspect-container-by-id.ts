import { isDockerNotFound, type DockerApi } from './docker-api.js';
import { toDockerContainer, type DockerContainer } from './docker-container.js';

/** Looks a container up by full id; null when Docker does not know it. Cached (see createInspectContainerById). */
export type InspectContainerById = (id: string, signal?: AbortSignal) => Promise<DockerContainer | null>;

export interface InspectCacheOptions {
  /** How long a found container is reused. Short: a restart changes its PID and start time. */
  readonly ttlMs?: number;
  /** How long "no such container" is remembered, so a PID left behind by a removed container costs one call. */
  readonly negativeTtlMs?: number;
  /** Entries kept at most (oldest evicted first): PIDs come from the GPU, so ids are not ours to bound. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly expires: number;
  readonly value: DockerContainer | null;
}

/**
 * A per-id inspect with a small positive and negative cache, and one request in flight per id: per-PID attribution
 * asks about the same few containers every few seconds and must not hammer the daemon (dcgm-exporter#599: pod
 * lookups on every scrape without a negative cache took 10 cores). Errors other than 404 are not cached.
 */
export function createInspectContainerById(docker: DockerApi, options: InspectCacheOptions = {}): InspectContainerById {
  const ttlMs = options.ttlMs ?? 5_000;
  const negativeTtlMs = options.negativeTtlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 256;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<DockerContainer | null>>();

  function remember(id: string, value: DockerContainer | null): void {
    const t = now();
    cache.delete(id); // re-insert at the end: Map order is our eviction order
    cache.set(id, { value, expires: t + (value ? ttlMs : negativeTtlMs) });
    for (const [key, entry] of cache) {
      if (cache.size <= maxEntries && entry.expires > t) break;
      if (cache.size > maxEntries || entry.expires <= t) cache.delete(key);
    }
  }

  return async (id, signal) => {
    const hit = cache.get(id);
    if (hit && hit.expires > now()) return hit.value;
    const pending = inFlight.get(id);
    if (pending) return pending;
    const request = (async () => {
      try {
        const value = toDockerContainer(await docker.getContainer(id).inspect({ abortSignal: signal }));
        remember(id, value);
        return value;
      } catch (err) {
        if (!isDockerNotFound(err)) throw err;
        remember(id, null);
        return null;
      } finally {
        inFlight.delete(id);
      }
    })();
    inFlight.set(id, request);
    return request;
  };
}
