import { callerOf, FairQueue, mayQueue } from '../graph/fair-queue.js';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GatewayError } from '../errors/gateway-error.js';
import type { MailboxLimiter } from '../graph/mailbox-limiter.js';
import { MailboxScheduler, throttled, waitedPastDeadline } from '../graph/mailbox-scheduler.js';
import { mailboxKeys, mailboxScripts, SLOT_FREED_CHANNEL, type MailboxScripts } from './mailbox-scripts.js';

export interface SharedMailboxOptions {
  /** Calls in flight per mailbox over every replica (`GRAPH_MAILBOX_CONCURRENCY`). */
  concurrency: number;
  /** Calls waiting per mailbox in this replica (`GRAPH_MAILBOX_QUEUE`). */
  queueLimit: number;
  /** How long a slot is held without a refresh (`GRAPH_MAILBOX_LEASE_MS`); a killed replica's slots free after it. */
  leaseMs: number;
}

/** Told of what the shared limit does (the gateway's metrics). */
export interface SharedLimiterObserver {
  /** One round trip to Redis, and whether it answered. */
  redisRoundTrip(operation: 'acquire' | 'release' | 'pause' | 'refresh' | 'ping', seconds: number, ok: boolean): void;
  /** The limit fell back to this process (Redis unavailable). */
  fellBack(): void;
  /** Leases of this replica found expired or gone at a refresh. */
  leasesLost(count: number): void;
  /** Whether the limit is shared right now. */
  sharedState(shared: boolean): void;
}

interface Waiter {
  resolve(): void;
  reject(error: GatewayError): void;
  deadline: number;
  timer: NodeJS.Timeout;
  /** The call's `Authorization`, handed to the fall-back when the calls move there. */
  caller: string;
}

/** This replica's calls waiting for one mailbox; only the head talks to Redis. */
interface Queue {
  keys: ReturnType<typeof mailboxKeys>;
  /** Callers take turns here as in MailboxScheduler: the head (whoever's turn it is) asks Redis. */
  waiting: FairQueue<Waiter>;
  pumping: boolean;
  /** Ends the head's wait early: a slot was freed on this mailbox, somewhere. */
  wake: (() => void) | undefined;
  /** A slot was freed since the head last asked (so a "no" it got may be stale: ask again at once). */
  freed: boolean;
}

/** The slots this replica holds on one mailbox: leases in Redis, and slots of the fall-back. */
interface Held {
  keys: ReturnType<typeof mailboxKeys>;
  tokens: string[];
  local: number;
}

/**
 * Outlook's per-mailbox limit shared by every replica that uses the same Redis. Each replica
 * keeps a bounded queue per mailbox (callers take turns), and only its head asks Redis for a lease (a Lua script over a
 * sorted set scored in Redis's clock); it then waits for the time Redis names (a pause, or the
 * oldest lease's expiry) or for a slot-freed message, whichever comes first. One timer refreshes
 * every lease this replica holds, so the slots of a replica that dies free within a lease.
 *
 * Redis unreachable or slow never takes a call down: the first failed round trip switches the
 * replica to its own `MailboxScheduler` (fail open: Graph's own 429 and the local pause still
 * protect the mailbox), with one warning; it rejoins by itself when Redis answers again.
 *
 * Libraries weighed and not taken: `redis-semaphore` exits the process on an unhandled rejection
 * when Redis goes away while a lease is held, and scores leases with each replica's clock;
 * `bottleneck` is unmaintained since 2019, sends about 45 commands per acquire and release, and
 * frees a slot on a timer while the call still runs; `rate-limiter-flexible` counts rate, not
 * concurrency.
 */
export class SharedMailboxScheduler implements MailboxLimiter {
  readonly #options: SharedMailboxOptions;
  readonly #redis: Redis;
  readonly #scripts: MailboxScripts;
  readonly #local: MailboxScheduler;
  readonly #logger: Logger;
  readonly #observer: SharedLimiterObserver | undefined;
  readonly #queues = new Map<string, Queue>();
  readonly #queuesByTag = new Map<string, Queue>();
  readonly #held = new Map<string, Held>();
  readonly #timer: NodeJS.Timeout;
  #shared = false;
  #joinedOnce = false;

  constructor(redis: Redis, subscriber: Redis, options: SharedMailboxOptions, logger: Logger, observer?: SharedLimiterObserver) {
    this.#options = options;
    this.#redis = redis;
    this.#scripts = mailboxScripts(redis);
    this.#local = new MailboxScheduler({ concurrency: options.concurrency, queueLimit: options.queueLimit });
    this.#logger = logger;
    this.#observer = observer;
    observer?.sharedState(false);
    redis.on('ready', () => this.join());
    redis.on('close', () => this.fallBack('the connection to Redis closed'));
    subscriber.on('message', (_channel: string, tag: string) => {
      const queue = this.#queuesByTag.get(tag);
      if (queue === undefined) return;
      queue.freed = true;
      queue.wake?.();
    });
    // Subscribe on every ready: after a reconnect, and at start-up whenever Redis first answers.
    subscriber.on('ready', () => void subscriber.subscribe(SLOT_FREED_CHANNEL).catch(() => undefined));
    this.#timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.#timer.unref();
  }

  /** Whether the limit is shared through Redis right now (else this replica keeps its own). */
  get shared(): boolean {
    return this.#shared;
  }

  acquire(mailbox: string, deadline: number, retry = false, caller = ''): Promise<void> | undefined {
    if (!this.#shared) return this.acquireLocally(mailbox, deadline, retry, caller);
    let queue = this.#queues.get(mailbox);
    if (queue === undefined) {
      queue = { keys: mailboxKeys(mailbox), waiting: new FairQueue(), pumping: false, wake: undefined, freed: false };
      this.#queues.set(mailbox, queue);
      this.#queuesByTag.set(queue.keys.tag, queue);
    }
    // The head asks Redis and is about to be in flight: `queueLimit` calls may wait behind it.
    if (queue.waiting.length > this.#options.queueLimit) {
      throw throttled('Too many calls are waiting for this mailbox; retry later.', 0);
    }
    const who = callerOf(caller);
    // As above, the head counted as about to be in flight.
    if (!mayQueue(queue.waiting, who, this.#options.queueLimit + 1)) {
      throw throttled('Too many of your calls are waiting for this mailbox; retry later.', 0);
    }
    const waiting = queue;
    const slot = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        deadline,
        caller,
        timer: setTimeout(() => {
          waiting.waiting.remove(waiter);
          this.forgetIfIdle(mailbox);
          reject(waitedPastDeadline());
        }, Math.max(0, deadline - Date.now())),
      };
      waiter.timer.unref();
      waiting.waiting.push(who, waiter, retry);
    });
    void this.pump(mailbox, waiting);
    return slot;
  }

  release(mailbox: string): void {
    const held = this.#held.get(mailbox);
    if (held === undefined) return;
    if (held.local > 0) {
      held.local--;
      this.#local.release(mailbox);
    } else {
      const token = held.tokens.pop();
      // Not awaited: a release that does not reach Redis frees its slot when the lease expires.
      if (token !== undefined) void this.roundTrip('release', () => this.#scripts.release(held.keys, token)).catch(() => undefined);
    }
    if (held.local === 0 && held.tokens.length === 0) this.#held.delete(mailbox);
  }

  pause(mailbox: string, ms: number): void {
    this.#local.pause(mailbox, ms);
    if (!this.#shared) return;
    // Sent before the release that follows it on the same connection, so Redis sees it first.
    void this.roundTrip('pause', () => this.#scripts.pause(mailboxKeys(mailbox).pause, ms)).catch(() => undefined);
  }

  rejectAll(error: () => GatewayError): void {
    for (const [mailbox, queue] of this.#queues) {
      for (const { item: waiter } of queue.waiting.drain()) {
        clearTimeout(waiter.timer);
        waiter.reject(error());
      }
      queue.wake?.();
      this.forgetIfIdle(mailbox);
    }
    this.#local.rejectAll(error);
  }

  get size(): { mailboxes: number; waiting: number } {
    const local = this.#local.size;
    let waiting = local.waiting;
    for (const queue of this.#queues.values()) waiting += queue.waiting.length;
    return { mailboxes: local.mailboxes + this.#queues.size, waiting };
  }

  /** Stops the refresh timer; the connections are the caller's to close. */
  close(): void {
    clearInterval(this.#timer);
  }

  /** The head of `queue` asks Redis for a lease until the queue is empty, sleeping between asks. */
  private async pump(mailbox: string, queue: Queue): Promise<void> {
    if (queue.pumping) return;
    queue.pumping = true;
    try {
      while (queue.waiting.length > 0) {
        if (!this.#shared) return this.moveToLocal(mailbox, queue);
        const token = randomUUID();
        queue.freed = false;
        let answer: [number, number];
        try {
          answer = await this.roundTrip('acquire', () =>
            this.#scripts.acquire(queue.keys, token, this.#options.concurrency, this.#options.leaseMs),
          );
        } catch {
          this.fallBack('a command to Redis failed or timed out');
          return this.moveToLocal(mailbox, queue);
        }
        const [granted, waitMs] = answer;
        if (granted !== 1) {
          // A slot freed while the question was on its way: the "no" may be stale.
          if (queue.freed) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(Number(waitMs), this.#options.leaseMs));
            queue.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          queue.wake = undefined;
          continue;
        }
        // The slot goes to whoever is at the head now (the one who asked may have timed out).
        const head = queue.waiting.shift();
        if (head === undefined) {
          void this.roundTrip('release', () => this.#scripts.release(queue.keys, token)).catch(() => undefined);
          break;
        }
        let held = this.#held.get(mailbox);
        if (held === undefined) this.#held.set(mailbox, (held = { keys: queue.keys, tokens: [], local: 0 }));
        held.tokens.push(token);
        clearTimeout(head.timer);
        head.resolve();
      }
    } finally {
      queue.pumping = false;
      this.forgetIfIdle(mailbox);
    }
  }

  /** The fall-back: this process's own limit, with the slot counted so that `release` finds it. */
  private acquireLocally(mailbox: string, deadline: number, retry: boolean, caller: string): Promise<void> | undefined {
    const slot = this.#local.acquire(mailbox, deadline, retry, caller);
    if (slot === undefined) {
      this.noteLocalSlot(mailbox);
      return undefined;
    }
    return slot.then(() => this.noteLocalSlot(mailbox));
  }

  private noteLocalSlot(mailbox: string): void {
    let held = this.#held.get(mailbox);
    if (held === undefined) this.#held.set(mailbox, (held = { keys: mailboxKeys(mailbox), tokens: [], local: 0 }));
    held.local++;
  }

  /** Hands a mailbox's waiting calls to the fall-back, in order, each with its own deadline. */
  private moveToLocal(mailbox: string, queue: Queue): void {
    for (const { item: waiter } of queue.waiting.drain()) {
      clearTimeout(waiter.timer);
      try {
        const slot = this.acquireLocally(mailbox, waiter.deadline, false, waiter.caller);
        if (slot === undefined) waiter.resolve();
        else slot.then(waiter.resolve, waiter.reject);
      } catch (error) {
        waiter.reject(error as GatewayError);
      }
    }
  }

  private forgetIfIdle(mailbox: string): void {
    const queue = this.#queues.get(mailbox);
    if (queue && queue.waiting.length === 0 && !queue.pumping) {
      this.#queues.delete(mailbox);
      this.#queuesByTag.delete(queue.keys.tag);
    }
  }

  private join(): void {
    if (this.#shared) return;
    this.#shared = true;
    this.#observer?.sharedState(true);
    if (this.#joinedOnce) this.#logger.warn('mailbox limit: Redis answers again, the limit is shared again');
    else this.#logger.info('mailbox limit: shared through Redis');
    this.#joinedOnce = true;
  }

  private fallBack(reason: string): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#observer?.sharedState(false);
    this.#observer?.fellBack();
    this.#logger.warn({ reason }, 'mailbox limit: Redis unavailable, each replica keeps its own limit until it is back');
    for (const [mailbox, queue] of this.#queues) {
      if (!queue.pumping) this.moveToLocal(mailbox, queue);
      else queue.wake?.();
    }
  }

  /** Every third of a lease: refresh the leases held; while fallen back, see whether Redis answers again. */
  private async tick(): Promise<void> {
    if (!this.#shared) {
      if (this.#redis.status !== 'ready') return;
      const answered = await this.roundTrip('ping', () => this.#redis.ping()).then(
        () => true,
        () => false,
      );
      if (answered) this.join();
      return;
    }
    for (const held of this.#held.values()) {
      if (held.tokens.length === 0) continue;
      try {
        const lost = await this.roundTrip('refresh', () => this.#scripts.refresh(held.keys.leases, this.#options.leaseMs, [...held.tokens]));
        if (lost > 0) this.#observer?.leasesLost(lost);
      } catch {
        this.fallBack('a lease refresh failed or timed out');
        return;
      }
    }
  }

  private async roundTrip<T>(operation: 'acquire' | 'release' | 'pause' | 'refresh' | 'ping', command: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await command();
      this.#observer?.redisRoundTrip(operation, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      this.#observer?.redisRoundTrip(operation, (performance.now() - started) / 1000, false);
      throw error;
    }
  }
}
