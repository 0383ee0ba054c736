import { newVersion, type PhotoCacheStore } from '../photo-cache/photo-cache-store.js';
import { REDIS_COMMAND_TIMEOUT_MS } from './redis-connection.js';
import type { RedisLink } from './redis-deployment.js';

/**
 * The photo cache in Redis, shared by the replicas: one key per entry, each with its TTL (`PX`),
 * the keys of one mailbox in one hash slot (`{tag}`), so that this works on Redis Cluster. Keys
 * name a caller only by a hash (photo-cache/cache-keys.ts), never by a token. Redis unreachable or
 * slow is a miss and a dropped write: no command is waited for longer than its bound, no error
 * reaches a read. Entries hold pictures of callers' contacts: Redis must be private to the gateway.
 */
export class RedisPhotoStore implements PhotoCacheStore {
  readonly #redis: RedisLink;
  readonly #prefix: string;

  constructor(redis: RedisLink, prefix = 'contact-photo-gateway:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async get(tag: string, key: string): Promise<Buffer | undefined> {
    return (await bounded(this.#redis.run((client) => client.getBuffer(this.keyOf(tag, key))))) ?? undefined;
  }

  async set(tag: string, key: string, value: Buffer, ttlMs: number): Promise<void> {
    await bounded(this.#redis.run((client) => client.set(this.keyOf(tag, key), value, 'PX', Math.max(1, Math.ceil(ttlMs)))));
  }

  async version(tag: string, contact: string): Promise<string> {
    return (await bounded(this.#redis.run((client) => client.get(this.keyOf(tag, `photo-version:${contact}`))))) ?? '0';
  }

  async bump(tag: string, contact: string, ttlMs: number): Promise<void> {
    await bounded(this.#redis.run((client) => client.set(this.keyOf(tag, `photo-version:${contact}`), newVersion(), 'PX', Math.max(1, Math.ceil(ttlMs)))));
  }

  private keyOf(tag: string, key: string): string {
    return `${this.#prefix}{${tag}}:${key}`;
  }
}

/**
 * The command's answer, or `undefined` when it failed or took longer than Redis's command bound:
 * ioredis's own timeout ends a command on a live connection; this one also covers a connection
 * being set up or torn down, so that a read is never held by Redis.
 */
function bounded<T>(command: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), REDIS_COMMAND_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([command.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}
