/**
 * Persisted form of one remembered alert: [fingerprint, startsAt of its newest known episode, when that episode
 * ended (ms) or null while it fires, the incident that episode joined or null, last notification about it (ms)].
 */
export type RememberedAlert = [string, string, number | null, string | null, number];

/** How long an alert nobody mentions any more is remembered (Alertmanager re-sends firing ones every few hours). */
export const ALERT_MEMORY_TTL_MS = 8 * 24 * 3_600_000;
/** At most this many alerts are remembered; past it the least recently mentioned go first, open incidents' last. */
export const MAX_REMEMBERED_ALERTS = 20_000;

interface Facts {
  /** The newest known episode (Alertmanager's startsAt) and its time. */
  startsAt: string;
  startsAtMs: number;
  /** When that episode ended, from a resolved notification: it is over. */
  endsAtMs?: number;
  /** The incident that episode joined. */
  incident?: string;
  seenAt: number;
}

export type FiringVerdict =
  /** This episode is over: its resolution is known (it may have arrived first), or a newer episode began since. */
  | { readonly kind: 'over' }
  /** This episode already joined an incident (a re-send, or a replay after a restart). */
  | { readonly kind: 'known'; readonly incident: string }
  | { readonly kind: 'new' };

/**
 * What is known about each alert, by fingerprint, independent of any incident's size: the newest episode seen,
 * whether it ended, and which incident it joined. Alerts are ordered by their own timestamps (startsAt, endsAt),
 * never by arrival, so a resolution that overtakes its firing still wins, and a re-send of an episode whose
 * incident closed never opens another. Pure; no I/O.
 */
export class AlertMemory {
  /** In order of last mention, least recent first. */
  readonly #facts = new Map<string, Facts>();
  /** incident -> fingerprints of its alerts that still fire. */
  readonly #firing = new Map<string, Set<string>>();

  constructor(saved: readonly RememberedAlert[] = []) {
    for (const [fp, startsAt, endsAtMs, incident, seenAt] of saved) {
      this.#put(fp, {
        startsAt,
        startsAtMs: toMs(startsAt),
        ...(endsAtMs !== null ? { endsAtMs } : {}),
        ...(incident !== null ? { incident } : {}),
        seenAt,
      });
    }
  }

  /** What a firing notification of episode `startsAt` of `fingerprint` is. */
  firing(fingerprint: string, startsAt: string): FiringVerdict {
    const f = this.#facts.get(fingerprint);
    if (!f) return { kind: 'new' };
    const s = toMs(startsAt);
    if (s < f.startsAtMs || (f.endsAtMs !== undefined && s <= f.endsAtMs)) return { kind: 'over' };
    if (s === f.startsAtMs && f.incident) return { kind: 'known', incident: f.incident };
    return { kind: 'new' };
  }

  /** Episode `startsAt` of `fingerprint` fires and belongs to `incident`. */
  noteFiring(fingerprint: string, startsAt: string, incident: string, now: number): void {
    this.#put(fingerprint, { startsAt, startsAtMs: toMs(startsAt), incident, seenAt: now });
  }

  /**
   * Episode `startsAt` of `fingerprint` ended at `endsAt` (an unreadable or earlier endsAt ends just that episode).
   * Returns the incident whose firing alert this ends, if any.
   */
  noteResolved(fingerprint: string, startsAt: string, endsAt: string, now: number): string | undefined {
    const s = toMs(startsAt);
    const e = Math.max(s, toMs(endsAt));
    const f = this.#facts.get(fingerprint);
    if (f && s < f.startsAtMs) {
      // The end of an older episode: what is known about the newer one stands.
      this.#put(fingerprint, { ...f, seenAt: now });
      return undefined;
    }
    // Its own episode, or a newer one (which means the one known before is over too).
    const ended = f?.endsAtMs === undefined ? f?.incident : undefined;
    const same = f?.startsAtMs === s ? f : undefined;
    this.#put(fingerprint, {
      startsAt,
      startsAtMs: s,
      endsAtMs: Math.max(e, same?.endsAtMs ?? e),
      ...(same?.incident ? { incident: same.incident } : {}),
      seenAt: now,
    });
    return ended;
  }

  /** A re-send was seen (answered from the intake's memory): keeps the alert remembered. */
  touch(fingerprint: string, now: number): void {
    const f = this.#facts.get(fingerprint);
    if (f) this.#put(fingerprint, { ...f, seenAt: now });
  }

  /** The incident whose alert this fingerprint fires for, if it still fires. */
  firingIncident(fingerprint: string): string | undefined {
    const f = this.#facts.get(fingerprint);
    return f && f.endsAtMs === undefined ? f.incident : undefined;
  }

  /** Whether any alert of `incident` still fires. */
  anyFiring(incident: string): boolean {
    return (this.#firing.get(incident)?.size ?? 0) > 0;
  }

  /** Forgets alerts not mentioned for the TTL, then the least recently mentioned past the cap (open ones last). */
  prune(now: number, isOpen: (incident: string) => boolean): void {
    for (const [fp, f] of this.#facts)
      if (now - f.seenAt > ALERT_MEMORY_TTL_MS && !(f.incident && isOpen(f.incident))) this.#put(fp, undefined);
    for (const [fp, f] of this.#facts) {
      if (this.#facts.size <= MAX_REMEMBERED_ALERTS) return;
      if (!(f.incident && isOpen(f.incident))) this.#put(fp, undefined);
    }
    for (const fp of this.#facts.keys()) {
      if (this.#facts.size <= MAX_REMEMBERED_ALERTS) return;
      this.#put(fp, undefined);
    }
  }

  /** Replaces (or with undefined forgets) what is known about a fingerprint; it becomes the most recently mentioned. */
  #put(fingerprint: string, facts: Facts | undefined): void {
    const old = this.#facts.get(fingerprint);
    if (old?.incident) {
      const set = this.#firing.get(old.incident);
      set?.delete(fingerprint);
      if (set?.size === 0) this.#firing.delete(old.incident);
    }
    this.#facts.delete(fingerprint);
    if (!facts) return;
    this.#facts.set(fingerprint, facts);
    if (facts.incident && facts.endsAtMs === undefined) {
      const set = this.#firing.get(facts.incident) ?? new Set<string>();
      set.add(fingerprint);
      this.#firing.set(facts.incident, set);
    }
  }

  get size(): number {
    return this.#facts.size;
  }

  snapshot(): RememberedAlert[] {
    return [...this.#facts].map(([fp, f]) => [fp, f.startsAt, f.endsAtMs ?? null, f.incident ?? null, f.seenAt]);
  }
}

/** Alertmanager's RFC 3339 timestamps (nanoseconds allowed); an unreadable one sorts before everything. */
function toMs(ts: string): number {
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? -Infinity : ms;
}
