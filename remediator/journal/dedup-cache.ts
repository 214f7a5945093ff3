/**
 * Bounded memory of alert keys already recorded, so Alertmanager's re-sends (repeat_interval, group changes, HA
 * pairs) are answered without touching the disk. Oldest keys are forgotten first; a forgotten key only costs one
 * more journal line, because applying an alert is idempotent.
 */
export class DedupCache {
  readonly #keys = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    this.#keys.delete(key);
    this.#keys.set(key, true);
    while (this.#keys.size > this.capacity) this.#keys.delete(this.#keys.keys().next().value!);
  }

  get size(): number {
    return this.#keys.size;
  }
}
