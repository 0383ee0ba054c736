/** A byte bound for an `ExpiringMemo`, with how an entry is measured. */
export interface MemoByteLimit<V> {
  maxBytes: number;
  /** About what the entry holds in memory (its strings' lengths are near enough). */
  bytesOf(key: string, value: V): number;
  /** Told of each entry pushed out to make room (not of those that expired or were replaced). */
  onEvicted?: (bytes: number) => void;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  bytes: number;
}

/**
 * A bounded map whose entries end at their own expiry: what sign-in remembers per incoming token
 * (the caller it names, the Graph token exchanged for it), so that a caller's next calls cost a
 * map look-up rather than a signature check and a token exchange; and the photo cache's entries
 * in process (photo-cache/memory-photo-store.ts). It holds at most `maxEntries`
 * entries and, when given a byte limit, at most that many bytes: the least recently used entry
 * makes room (Map keeps insertion order, and a hit moves its entry to the end), so a burst of new
 * callers cannot grow the process without bound nor push out the callers who are active.
 */
export class ExpiringMemo<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #bytes: MemoByteLimit<V> | undefined;
  #heldBytes = 0;

  constructor(maxEntries: number, bytes?: MemoByteLimit<V>) {
    this.#maxEntries = maxEntries;
    this.#bytes = bytes;
  }

  /** The value, unless absent or expired at `now` (epoch ms). */
  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) {
      this.#heldBytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Remembers `value` until `expiresAt` (epoch ms); one larger than the whole byte limit is not kept. */
  set(key: string, value: V, expiresAt: number): void {
    this.delete(key);
    const bytes = this.#bytes?.bytesOf(key, value) ?? 0;
    if (this.#bytes && bytes > this.#bytes.maxBytes) return;
    while (this.#entries.size > 0 && (this.#entries.size >= this.#maxEntries || this.#heldBytes + bytes > (this.#bytes?.maxBytes ?? Infinity))) {
      const oldest = this.#entries.keys().next().value!;
      this.#bytes?.onEvicted?.(this.#entries.get(oldest)!.bytes);
      this.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt, bytes });
    this.#heldBytes += bytes;
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#heldBytes -= entry.bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The bytes the entries are measured at (0 without a byte limit). */
  get bytes(): number {
    return this.#heldBytes;
  }
}
