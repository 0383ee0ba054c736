import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisClient } from './redis-connection.js';
import type { RedisFailure } from './redis-failure.js';
import type { SharedLimiterObserver } from './shared-limiter-observer.js';

/** Why the limit is not shared: a Redis failure, or no answer from Redis yet since start-up. */
export type LocalReason = RedisFailure | 'connecting';

/**
 * Whether a replica's mailbox limit is shared through Redis right now, and the one word saying
 * why not (`/readyz`). It is shared only from a success of the limit's own commands to their
 * first failure: a connection that is up says nothing of whether the scripts run (an ACL user
 * without `EVALSHA`, a single-node client answered `MOVED`). Logs and counts each change once.
 */
export class LimitAvailability {
  readonly #logger: Logger;
  readonly #observer: SharedLimiterObserver | undefined;
  #shared = false;
  #joinedOnce = false;
  #reason: LocalReason = 'connecting';

  constructor(logger: Logger, observer: SharedLimiterObserver | undefined) {
    this.#logger = logger;
    this.#observer = observer;
    observer?.sharedState(false);
  }

  get shared(): boolean {
    return this.#shared;
  }

  /** Why the limit is local, or `undefined` while it is shared. */
  get reason(): LocalReason | undefined {
    return this.#shared ? undefined : this.#reason;
  }

  join(): void {
    if (this.#shared) return;
    this.#shared = true;
    this.#observer?.sharedState(true);
    if (this.#joinedOnce) this.#logger.warn('mailbox limit: Redis answers again, the limit is shared again');
    else this.#logger.info('mailbox limit: shared through Redis');
    this.#joinedOnce = true;
  }

  /** Stops sharing, for `reason` (`why` in the log line): true when it was shared until now. */
  fallBack(reason: RedisFailure, why: string): boolean {
    this.#reason = reason;
    if (!this.#shared) return false;
    this.#shared = false;
    this.#observer?.sharedState(false);
    this.#observer?.fellBack();
    this.#logger.warn({ reason, why }, 'mailbox limit: Redis unavailable, each replica keeps its own limit until it is back');
    return true;
  }
}

/**
 * On a cluster, a script that ran says only that its key's master answers: every master must
 * answer, and every slot have a master among them, for every mailbox's keys to be reachable.
 */
export async function everySlotServed(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster)) return;
  const masters = client.nodes('master');
  await Promise.all(masters.map((node) => node.ping()));
  const answering = new Set(masters.map((node) => `${node.options.host}:${node.options.port}`));
  const served = client.slots.length === 16384 && client.slots.every((owners) => owners?.[0] !== undefined && answering.has(owners[0]));
  if (served) return;
  // The client dropped a master that went away: ask the cluster again, for the next probe to see it back.
  await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
  throw new Error('CLUSTERDOWN a slot has no master that answers');
}
