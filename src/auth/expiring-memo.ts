/**
 * A bounded map whose entries end at their own expiry: what sign-in remembers per incoming token
 * (the caller it names, the Graph token exchanged for it), so that a caller's next calls cost a
 * map look-up rather than a signature check and MSAL's cache walk. The oldest entry makes room
 * when it is full (Map keeps insertion order).
 */
export class ExpiringMemo<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The value, unless absent or expired at `now` (epoch ms). */
  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expiresAt });
  }

  get size(): number {
    return this.#entries.size;
  }
}
