/**
 * Told of what the photo cache does; the gateway's metrics implement it. photo-cache/ owns it, so
 * that metrics/ imports this interface only (type-only).
 */
export interface PhotoCacheObserver {
  /**
   * One read asked of the cache: `hit` (answered from an entry), `miss` (read from Graph),
   * `shared` (joined an identical read in flight). `list` is a page of the contact list
   * (contact-list-cache.ts), the others a photo's parts.
   */
  photoCacheRead(part: 'metadata' | 'value' | 'thumbnail' | 'list', outcome: 'hit' | 'miss' | 'shared'): void;
  /** A stale picture checked by its metadata: `unchanged` kept its bytes, `changed` read them again. */
  photoCacheRevalidated(outcome: 'unchanged' | 'changed'): void;
  /** An entry pushed out of the process's cache to make room. */
  photoCacheEvicted(): void;
}
