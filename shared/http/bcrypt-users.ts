import { createHash } from 'node:crypto';

export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

/** Successful checks remembered; a few users scraping from a few places need far fewer. */
const CACHE_SIZE = 256;

/**
 * Checks basic-auth credentials against bcrypt hashes (a web config's basic_auth_users). A bcrypt compare costs tens
 * of milliseconds by design, too much for every scrape: a success is remembered, keyed by a SHA-256 of user, password
 * and hash (as exporter-toolkit does), so the next request with the same credentials costs one hash and a map look-up.
 * A failure is not remembered: guessing stays at bcrypt's price. Compares run one at a time, so a flood of wrong
 * passwords takes turns instead of multiplying the CPU spent at once.
 */
export class BcryptUsers {
  private readonly users: ReadonlyMap<string, string>;
  /** An unknown user is compared against this, so the time taken does not tell which users exist. */
  private readonly dummy: string;
  private readonly verified = new Map<string, true>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    users: Readonly<Record<string, string>>,
    // Loaded on first use: only a web config with basic_auth_users needs it.
    private readonly compare: BcryptCompare = async (password, hash) =>
      (await import('bcryptjs')).default.compare(password, hash),
  ) {
    this.users = new Map(Object.entries(users));
    // A configured hash has the cost the real compares have; a user's own hash is never matched for another name.
    this.dummy = [...this.users.values()][0] ?? '';
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    // The digest is the key: the map is looked up by a value no client can steer, and no password is held in memory.
    const key = createHash('sha256')
      .update(JSON.stringify([user, password, hash ?? this.dummy]))
      .digest('base64');
    if (hash !== undefined && this.verified.has(key)) return true;
    const next = this.queue.then(() => this.compare(password, hash ?? this.dummy).catch(() => false));
    this.queue = next;
    const ok = (await next) && hash !== undefined;
    if (ok) {
      if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, true);
    }
    return ok;
  }
}
