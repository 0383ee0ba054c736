import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Redis } from 'ioredis';
import type { SharedTokenCache } from '../auth/token-exchange.js';

/** How long a caller's partition is kept: about a Graph token's life. */
const PARTITION_TTL_S = 3600;

/**
 * MSAL's token cache shared by replicas through Redis, one partition per caller, keyed by a hash
 * of the caller's token (never the token itself): a token exchanged on one replica is found by
 * the others. The partitions hold Graph tokens: Redis must be private to the gateway.
 *
 * MSAL has one in-memory cache per client, and asks its plugin around each access without
 * saying for whom: `forCaller` runs the exchange in an async context that names the partition,
 * `beforeCacheAccess` loads that partition in place of whatever was in memory, and
 * `afterCacheAccess` writes it back when MSAL changed it. Redis unavailable is a cache miss.
 */
export class RedisTokenCache implements SharedTokenCache {
  readonly #redis: Redis;
  readonly #partition = new AsyncLocalStorage<string>();
  readonly plugin: ICachePlugin;

  constructor(redis: Redis, keyPrefix = 'contact-photo-gateway:obo:') {
    this.#redis = redis;
    const keyOf = (): string | undefined => {
      const partition = this.#partition.getStore();
      return partition === undefined ? undefined : keyPrefix + partition;
    };
    this.plugin = {
      beforeCacheAccess: async (context: TokenCacheContext) => {
        const key = keyOf();
        if (key === undefined) return;
        const stored = await this.#redis.get(key).catch(() => null);
        context.tokenCache.deserialize(stored ?? '{}');
      },
      afterCacheAccess: async (context: TokenCacheContext) => {
        const key = keyOf();
        if (key === undefined || !context.cacheHasChanged) return;
        await this.#redis.set(key, context.tokenCache.serialize(), 'EX', PARTITION_TTL_S).catch(() => undefined);
      },
    };
  }

  forCaller<T>(token: string, work: () => Promise<T>): Promise<T> {
    return this.#partition.run(createHash('sha256').update(token).digest('base64url'), work);
  }
}
