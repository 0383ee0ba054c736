import type { RememberedGraphToken, SharedTokenCache } from '../auth/token-exchange.js';
import type { RedisLink } from './redis-deployment.js';

/**
 * Sign-in's Graph tokens shared by replicas through Redis: one key per caller, the key ending in
 * a hash of the caller's token (never the token itself), its value that caller's Graph token and
 * when to renew it, kept until then. A token exchanged on one replica is found by the others.
 * The keys hold Graph tokens: Redis must be private to the gateway. Redis unavailable is a miss.
 */
export class RedisTokenCache implements SharedTokenCache {
  readonly #redis: RedisLink;
  readonly #keyPrefix: string;

  constructor(redis: RedisLink, keyPrefix = 'contact-photo-gateway:obo-graph-token:') {
    this.#redis = redis;
    this.#keyPrefix = keyPrefix;
  }

  async get(partition: string): Promise<RememberedGraphToken | undefined> {
    const stored = await this.#redis.run((client) => client.get(this.keyOf(partition))).catch(() => null);
    return stored === null ? undefined : parse(stored);
  }

  async set(partition: string, token: RememberedGraphToken): Promise<void> {
    // Whole seconds until renewal: the key is gone when no replica would use its token any more.
    const ttlS = Math.floor((token.renewAt - Date.now()) / 1000);
    if (ttlS < 1) return;
    await this.#redis.run((client) => client.set(this.keyOf(partition), JSON.stringify(token), 'EX', ttlS)).catch(() => undefined);
  }

  private keyOf(partition: string): string {
    return this.#keyPrefix + partition;
  }
}

/** A stored entry, or `undefined` for anything else (a partial write, another version's format). */
function parse(stored: string): RememberedGraphToken | undefined {
  try {
    const value = JSON.parse(stored) as Partial<RememberedGraphToken>;
    return typeof value.authorization === 'string' && typeof value.renewAt === 'number' ? { authorization: value.authorization, renewAt: value.renewAt } : undefined;
  } catch {
    return undefined;
  }
}
