import { ErrorsAreMissesCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Logger } from 'pino';
import type { MailboxBudgetOptions } from '../graph/mailbox-budget.js';
import { connectRedis } from './redis-connection.js';
import { RedisKeyValueCache } from './redis-key-value-cache.js';
import { RedisPhotoStore } from './redis-photo-store.js';
import { RedisTokenCache } from './redis-token-cache.js';
import type { SharedLimiterObserver } from './shared-limiter-observer.js';
import { SharedMailboxBudget } from './shared-mailbox-budget.js';
import { SharedMailboxScheduler, type SharedMailboxOptions } from './shared-mailbox-scheduler.js';

/** What replicas share through Redis. */
export interface SharedState {
  /** The per-mailbox limit and pauses. */
  limiter: SharedMailboxScheduler;
  /** Outlook's request and upload budgets per mailbox (when given their settings). */
  budgets: SharedMailboxBudget | undefined;
  /** Apollo's persisted-query cache (when trusted documents are off). */
  persistedQueries: KeyValueCache<string>;
  /** Sign-in's token cache (with `AUTH_MODE=obo`): Graph tokens exchanged on-behalf-of, per caller. */
  tokenCache: RedisTokenCache;
  /** The photo cache's entries, versions and the pictures URLs name. */
  photoStore: RedisPhotoStore;
  /** Stops the limiter's timer and closes both connections. */
  close(): Promise<void>;
}

/**
 * Connects to `url` (without waiting: until Redis answers, each replica keeps its own limit) with
 * two connections, one for commands and one subscribed to freed slots.
 */
export function createShared(
  url: string,
  mailbox: SharedMailboxOptions,
  logger: Logger,
  observer?: SharedLimiterObserver,
  budget?: MailboxBudgetOptions,
): SharedState {
  const redis = connectRedis(url, logger, 'commands');
  const subscriber = connectRedis(url, logger, 'subscriber');
  const limiter = new SharedMailboxScheduler(redis, subscriber, mailbox, logger, observer);
  return {
    limiter,
    budgets: budget && new SharedMailboxBudget(redis, budget, logger, observer),
    // Redis down is a cache miss: the client then sends the query text again.
    persistedQueries: new ErrorsAreMissesCache(new RedisKeyValueCache(redis)),
    tokenCache: new RedisTokenCache(redis),
    photoStore: new RedisPhotoStore(redis),
    async close() {
      limiter.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
