import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisLink } from './redis-deployment.js';

/**
 * Apollo's `KeyValueCache` over the gateway's Redis connection, for the persisted-query cache:
 * a hash registered on one replica is found on the others. Wrapped in Apollo's
 * `ErrorsAreMissesCache` by the gateway, so that Redis being down is a cache miss (the client
 * sends the query again), never a failed operation.
 *
 * A Keyv Redis store was weighed: `@keyv/redis` brings a second client (node-redis), with its own
 * connection and an offline queue by default, which would make an APQ lookup wait for Redis to
 * come back; this class shares the ioredis connection and its fail-fast settings.
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: RedisLink,
    private readonly prefix = 'contact-photo-gateway:apq:',
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.run((client) => client.get(this.prefix + key))) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl;
    if (ttl) await this.redis.run((client) => client.set(this.prefix + key, value, 'PX', Math.ceil(ttl * 1000)));
    else await this.redis.run((client) => client.set(this.prefix + key, value));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.run((client) => client.del(this.prefix + key))) > 0;
  }
}
