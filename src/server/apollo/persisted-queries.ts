import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';

/**
 * Automatic persisted queries (APQ) are registered by anyone, without a token: each entry must
 * expire (`APQ_TTL_S`) and be small (`APQ_MAX_BYTES`), or registrations of padded documents fill
 * the cache, and with Redis the memory the mailbox limit needs.
 */
export interface PersistedQuerySettings {
  ttlSeconds: number;
  maxBytes: number;
}

/**
 * A `KeyValueCache` that does not store a document larger than `maxBytes`: the operation still
 * runs, its hash is just not remembered (the client sends the text again next time).
 */
export class SizeBoundedCache implements KeyValueCache<string> {
  constructor(
    private readonly inner: KeyValueCache<string>,
    private readonly maxBytes: number,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.inner.get(key);
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (Buffer.byteLength(value) > this.maxBytes) return;
    await this.inner.set(key, value, options);
  }

  delete(key: string): Promise<boolean | void> {
    return this.inner.delete(key);
  }
}

/** Apollo's `persistedQueries` option: the given cache (Redis), or this process's own, bounded either way. */
export function persistedQueries(settings: PersistedQuerySettings, shared?: KeyValueCache<string>) {
  // Apollo's own default: an LRU of about 30 MiB, counted by the entries' length.
  const cache = shared ?? new InMemoryLRUCache<string>();
  return { cache: new SizeBoundedCache(cache, settings.maxBytes), ttl: settings.ttlSeconds };
}
