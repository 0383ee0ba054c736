import { randomBytes } from 'node:crypto';
import { ExpiringMemo } from '../memo/expiring-memo.js';

/**
 * Where the photo cache keeps its entries: this process (`MemoryPhotoStore`) or, with
 * `REDIS_URL`, Redis (redis/redis-photo-store.ts), shared by the replicas. Every key is given with
 * its mailbox's tag (one hash slot per mailbox). A store that cannot answer (Redis down, or slow
 * past its bound) answers a miss and drops a write: the cache is never a reason for a read to fail.
 */
export interface PhotoCacheStore {
  /** The entry, `undefined` when absent or expired. */
  get(tag: string, key: string): Promise<Buffer | undefined>;
  /** Keeps the entry `ttlMs`. */
  set(tag: string, key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** The contact's version: part of its keys, `"0"` until the gateway changes the contact's photo. */
  version(tag: string, contact: string): Promise<string>;
  /**
   * Gives the contact a new version (kept `ttlMs`, longer than any entry): every caller's entries
   * of it are then unreachable at once. A version is random, never a counter, so that one
   * forgotten at its expiry and made again cannot name entries of an earlier one.
   */
  bump(tag: string, contact: string, ttlMs: number): Promise<void>;
  /** The bytes held, when the store knows them (in process). */
  readonly bytesHeld?: number;
}

/** A new version: 64 random bits. */
export function newVersion(): string {
  return randomBytes(8).toString('base64url');
}

/**
 * The cache in this process: at most `maxBytes` (each entry measured at its key and bytes, and a
 * little for the map), least recently used out.
 */
export class MemoryPhotoStore implements PhotoCacheStore {
  readonly #entries: ExpiringMemo<Buffer>;
  /** Versions, oldest change first (a change moves its contact to the end): expired ones are dropped from the front. */
  readonly #versions = new Map<string, { version: string; expiresAt: number }>();

  constructor(maxBytes: number, onEvicted?: (bytes: number) => void) {
    this.#entries = new ExpiringMemo(Infinity, { maxBytes, bytesOf: (key, value) => key.length + value.length + 64, ...(onEvicted && { onEvicted }) });
  }

  async get(tag: string, key: string): Promise<Buffer | undefined> {
    return this.#entries.get(`${tag}:${key}`);
  }

  async set(tag: string, key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.#entries.set(`${tag}:${key}`, value, Date.now() + ttlMs);
  }

  async version(tag: string, contact: string): Promise<string> {
    const entry = this.#versions.get(`${tag}:${contact}`);
    return entry && entry.expiresAt > Date.now() ? entry.version : '0';
  }

  async bump(tag: string, contact: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.#versions) {
      if (entry.expiresAt > now) break;
      this.#versions.delete(key);
    }
    const key = `${tag}:${contact}`;
    this.#versions.delete(key);
    this.#versions.set(key, { version: newVersion(), expiresAt: now + ttlMs });
  }

  get bytesHeld(): number {
    return this.#entries.bytes;
  }
}
