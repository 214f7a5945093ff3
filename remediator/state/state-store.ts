import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyState, parsePersistedState, type PersistedState } from './persisted-state.js';
import { writeFileAtomic } from './write-file-atomic.js';

export const STATE_FILE = 'state.json';

/**
 * The state file. `save()` resolves once a snapshot taken AFTER the call is on disk; saves requested while one is
 * being written collapse into a single following write, so bursts cost two writes, not hundreds.
 */
export class StateStore {
  #writing: Promise<void> | undefined;
  #again: Promise<void> | undefined;
  saves = 0;

  constructor(
    readonly dir: string,
    private readonly snapshot: () => PersistedState,
    private readonly afterSave?: (s: PersistedState) => Promise<void>,
  ) {}

  static async load(dir: string): Promise<PersistedState> {
    let text: string;
    try {
      text = await readFile(join(dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw err;
    }
    return parsePersistedState(text);
  }

  save(): Promise<void> {
    if (!this.#writing) {
      this.#writing = this.#write().finally(() => (this.#writing = undefined));
      return this.#writing;
    }
    // A write is running with an older snapshot: queue exactly one more after it.
    this.#again ??= this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#again = undefined;
        return this.save();
      });
    return this.#again;
  }

  async #write(): Promise<void> {
    const state = this.snapshot();
    await writeFileAtomic(join(this.dir, STATE_FILE), JSON.stringify(state));
    this.saves++;
    await this.afterSave?.(state);
  }
}
