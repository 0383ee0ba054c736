import type { GatewayError } from '../errors/gateway-error.js';
import { callerOf, FairQueue, mayQueue } from './fair-queue.js';
import { throttled, waitedPastDeadline, type AcquireOptions, type MailboxLease, type MailboxLimiter } from './mailbox-limiter.js';

export interface MailboxSchedulerOptions {
  /** Calls in flight per mailbox at most (Outlook allows 4). */
  concurrency: number;
  /** Calls waiting per mailbox at most; past it a call fails at once with TOO_MANY_REQUESTS. */
  queueLimit: number;
}

interface Waiter {
  /** Slots the call needs at once. */
  slots: number;
  resolve(lease: MailboxLease): void;
  reject(error: GatewayError): void;
  timer: NodeJS.Timeout | undefined;
}

interface Mailbox {
  active: number;
  waiting: FairQueue<Waiter>;
  /** Epoch ms until which no call starts (a 429's Retry-After); 0 when not paused. */
  pausedUntil: number;
  resumeTimer: NodeJS.Timeout | undefined;
}

/**
 * Keeps Outlook's per-mailbox limit on this side of the wire: for each mailbox (an
 * `invitationId`) at most `concurrency` calls are in flight, later ones wait in a bounded queue
 * where callers take turns (see FairQueue), and a 429 pauses the mailbox for its `Retry-After` instead of letting every waiting
 * call hit the same wall. A mailbox with nothing in flight, waiting or paused has no entry, so
 * idle mailboxes cost no memory. The limit is per process.
 */
export class MailboxScheduler implements MailboxLimiter {
  readonly #options: MailboxSchedulerOptions;
  readonly #mailboxes = new Map<string, Mailbox>();

  constructor(options: MailboxSchedulerOptions) {
    this.#options = options;
  }

  /**
   * Takes `slots` (default 1, at most `concurrency`) on `mailbox` at once, waiting for them if
   * needed. `deadline` (epoch ms) ends the wait with GATEWAY_TIMEOUT; `retry` puts the call at the
   * head of its queue, since it has waited once already. The lease's `release` gives them back.
   */
  acquire(mailbox: string, deadline: number, options: AcquireOptions = {}): MailboxLease | Promise<MailboxLease> {
    const slots = Math.min(Math.max(1, options.slots ?? 1), this.#options.concurrency);
    let entry = this.#mailboxes.get(mailbox);
    if (entry === undefined) {
      entry = { active: 0, waiting: new FairQueue(), pausedUntil: 0, resumeTimer: undefined };
      this.#mailboxes.set(mailbox, entry);
    }
    if (entry.pausedUntil === 0 && entry.waiting.length === 0 && entry.active + slots <= this.#options.concurrency) {
      entry.active += slots;
      return this.lease(mailbox, entry, slots);
    }
    if (entry.waiting.length >= this.#options.queueLimit) {
      throw throttled('Too many calls are waiting for this mailbox; retry later.', entry.pausedUntil);
    }
    const who = callerOf(options.caller ?? '');
    if (!mayQueue(entry.waiting, who, this.#options.queueLimit)) {
      throw throttled('Too many of your calls are waiting for this mailbox; retry later.', entry.pausedUntil);
    }
    // Paused past this call's deadline: say when to come back rather than wait into a timeout.
    if (entry.pausedUntil >= deadline) {
      throw throttled('Microsoft Graph is throttling this mailbox; retry later.', entry.pausedUntil);
    }
    return new Promise<MailboxLease>((resolve, reject) => {
      const waiter: Waiter = { slots, resolve, reject, timer: undefined };
      const waitMs = deadline - Date.now();
      waiter.timer = setTimeout(() => {
        entry.waiting.remove(waiter);
        this.forgetIfIdle(mailbox, entry);
        reject(waitedPastDeadline());
      }, Math.max(0, waitMs)).unref();
      entry.waiting.push(who, waiter, options.retry === true);
    });
  }

  /** The slots just taken: giving them back starts the next waiting call if the mailbox may run. */
  private lease(mailbox: string, entry: Mailbox, slots: number): MailboxLease {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        entry.active -= slots;
        this.startWaiting(mailbox, entry);
        this.forgetIfIdle(mailbox, entry);
      },
    };
  }

  /** Graph answered 429: no call starts on `mailbox` for `ms` milliseconds (calls in flight go on). */
  pause(mailbox: string, ms: number): void {
    const entry = this.#mailboxes.get(mailbox);
    if (entry === undefined) return;
    const until = Date.now() + ms;
    if (until <= entry.pausedUntil) return;
    entry.pausedUntil = until;
    clearTimeout(entry.resumeTimer);
    entry.resumeTimer = setTimeout(() => {
      entry.pausedUntil = 0;
      entry.resumeTimer = undefined;
      this.startWaiting(mailbox, entry);
      this.forgetIfIdle(mailbox, entry);
    }, ms).unref();
  }

  /** Fails every waiting call with `error` (at shutdown); calls in flight are the caller's to end. */
  rejectAll(error: () => GatewayError): void {
    for (const [mailbox, entry] of this.#mailboxes) {
      for (const { item: waiter } of entry.waiting.drain()) {
        clearTimeout(waiter.timer);
        waiter.reject(error());
      }
      clearTimeout(entry.resumeTimer);
      entry.pausedUntil = 0;
      this.forgetIfIdle(mailbox, entry);
    }
  }

  /** Mailboxes with an entry (busy, waiting or paused), and calls waiting over all of them. */
  get size(): { mailboxes: number; waiting: number } {
    let waiting = 0;
    for (const entry of this.#mailboxes.values()) waiting += entry.waiting.length;
    return { mailboxes: this.#mailboxes.size, waiting };
  }

  /** Starts waiting calls in turn while their slots fit (a call needing several waits for all of them). */
  private startWaiting(mailbox: string, entry: Mailbox): void {
    while (entry.pausedUntil === 0 && entry.waiting.length > 0 && entry.active + entry.waiting.peek()!.slots <= this.#options.concurrency) {
      const waiter = entry.waiting.shift()!;
      clearTimeout(waiter.timer);
      entry.active += waiter.slots;
      waiter.resolve(this.lease(mailbox, entry, waiter.slots));
    }
  }

  private forgetIfIdle(mailbox: string, entry: Mailbox): void {
    if (entry.active === 0 && entry.waiting.length === 0 && entry.pausedUntil === 0) this.#mailboxes.delete(mailbox);
  }
}

