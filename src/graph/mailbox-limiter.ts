import type { GatewayError } from '../errors/gateway-error.js';

/**
 * Keeps Outlook's per-mailbox limit for the Graph client: at most so many calls in flight per
 * mailbox, the others waiting in a bounded queue where callers take turns, and a pause after a 429. `MailboxScheduler` does
 * it in this process (the default); `SharedMailboxScheduler` shares it between replicas through
 * Redis.
 */
export interface MailboxLimiter {
  /**
   * Takes a slot on `mailbox`: `undefined` when one was free at once, else a promise that
   * resolves when the call may start. `deadline` (epoch ms) ends the wait with GATEWAY_TIMEOUT;
   * `retry` puts the call at the head of its queue. Waiting calls take turns between callers
   * (`caller`: the call's `Authorization`, hashed only when it has to wait), and the last quarter
   * of the queue is kept for callers holding less than a quarter of it (see `mayQueue`). Throws
   * TOO_MANY_REQUESTS when the queue, or the caller's share of it, is full. Every slot taken must
   * be given back with one `release`.
   */
  acquire(mailbox: string, deadline: number, retry?: boolean, caller?: string): Promise<void> | undefined;
  /** Gives back a slot taken by `acquire`. */
  release(mailbox: string): void;
  /**
   * Graph answered 429: no call starts on `mailbox` for `ms` milliseconds (the Graph client caps it
   * at `GRAPH_MAX_RETRY_AFTER_S`). Called before `release`.
   */
  pause(mailbox: string, ms: number): void;
  /** Fails every waiting call with `error` (at shutdown). */
  rejectAll(error: () => GatewayError): void;
  /** Mailboxes in use (busy, waiting or paused), and calls waiting over all of them. */
  readonly size: { mailboxes: number; waiting: number };
}
