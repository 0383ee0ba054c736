import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Keeps Outlook's per-mailbox limit for the Graph client: at most so many calls in flight per
 * mailbox, the others waiting in a bounded queue where callers take turns, and a pause after a 429. `MailboxScheduler` does
 * it in this process (the default); `SharedMailboxScheduler` shares it between replicas through
 * Redis.
 */
/** Slots taken on a mailbox by one `acquire`. */
export interface MailboxLease {
  /** Gives the slots back (once; a second call does nothing). */
  release(): void;
}

export interface AcquireOptions {
  /** Slots needed at once (a batch of several calls to the mailbox); 1 by default, at most the concurrency. */
  slots?: number;
  /** The call has waited once already (a retry): it goes to the head of its queue. */
  retry?: boolean;
  /** The call's `Authorization`: waiting calls take turns between callers (hashed only when it has to wait). */
  caller?: string;
}

export interface MailboxLimiter {
  /**
   * Takes slots on `mailbox`: the lease at once when they were free, else a promise of it once
   * the call may start. `deadline` (epoch ms) ends the wait with GATEWAY_TIMEOUT. Waiting calls
   * take turns between callers, and the last quarter of the queue is kept for callers holding
   * less than a quarter of it (see `mayQueue`). Throws TOO_MANY_REQUESTS when the queue, or the
   * caller's share of it, is full. Every lease must be released once.
   */
  acquire(mailbox: string, deadline: number, options?: AcquireOptions): MailboxLease | Promise<MailboxLease>;
  /**
   * Graph answered 429: no call starts on `mailbox` for `ms` milliseconds (the Graph client caps it
   * at `GRAPH_MAX_RETRY_AFTER_S`). Called before the lease is released.
   */
  pause(mailbox: string, ms: number): void;
  /** Fails every waiting call with `error` (at shutdown). */
  rejectAll(error: () => GatewayError): void;
  /** Mailboxes in use (busy, waiting or paused), and calls waiting over all of them. */
  readonly size: { mailboxes: number; waiting: number };
}

// The errors of the contract above, thrown alike by MailboxScheduler and by redis/'s
// SharedMailboxScheduler: they live with the contract, not in one of its implementations.

/** GATEWAY_TIMEOUT for a call whose deadline passed while it waited for its mailbox. */
export function waitedPastDeadline(): GatewayError {
  return new GatewayError(GatewayErrorCode.GATEWAY_TIMEOUT, 'The call waited for a free slot on this mailbox past its deadline.');
}

/** TOO_MANY_REQUESTS with `retryAfter`: the pause left, or 1 s when not paused. */
export function throttled(message: string, pausedUntil: number): GatewayError {
  const retryAfter = Math.max(1, Math.ceil((pausedUntil - Date.now()) / 1000));
  return new GatewayError(GatewayErrorCode.TOO_MANY_REQUESTS, message, { retryAfter });
}
