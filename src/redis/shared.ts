import { ErrorsAreMissesCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/redis-config.js';
import type { MailboxBudgetOptions } from '../graph/mailbox-budget.js';
import { RedisErrorLog } from './redis-connection.js';
import { openRedis, RedisLink, type RedisDeployment } from './redis-deployment.js';
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
  /** What Redis turned out to be, once it first answered (`undefined` until then). */
  readonly deployment: RedisDeployment | undefined;
  /** Stops the limiter's timer and closes both connections. */
  close(): Promise<void>;
}

/**
 * Connects to the Redis `config` names (without waiting: until Redis answers, each replica keeps
 * its own limit and the caches miss) with two connections, one for commands and one subscribed
 * to freed slots: to a single node, a cluster or Sentinel's primary (redis-deployment.ts).
 */
export function createShared(
  config: RedisConfig,
  mailbox: SharedMailboxOptions,
  logger: Logger,
  observer?: SharedLimiterObserver,
  budget?: MailboxBudgetOptions,
): SharedState {
  const link = new RedisLink();
  const limiter = new SharedMailboxScheduler(mailbox, logger, observer);
  const budgets = budget && new SharedMailboxBudget(budget, logger, observer);
  let deployment: RedisDeployment | undefined;
  const close = openRedis(config, new RedisErrorLog(logger, (failure) => limiter.connectionFailed(failure)), logger, (clients) => {
    deployment = clients.deployment;
    link.set(clients.commands);
    limiter.attach(clients.commands, clients.subscriber);
    budgets?.attach(clients.commands);
  });
  return {
    limiter,
    budgets,
    // Redis down is a cache miss: the client then sends the query text again.
    persistedQueries: new ErrorsAreMissesCache(new RedisKeyValueCache(link)),
    tokenCache: new RedisTokenCache(link),
    photoStore: new RedisPhotoStore(link),
    get deployment() {
      return deployment;
    },
    async close() {
      limiter.close();
      close();
    },
  };
}
