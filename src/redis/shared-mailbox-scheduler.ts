import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayError } from '../errors/gateway-error.js';
import { callerOf, FairQueue, mayQueue } from '../graph/fair-queue.js';
import { throttled, waitedPastDeadline, type AcquireOptions, type MailboxLease, type MailboxLimiter } from '../graph/mailbox-limiter.js';
import { MailboxScheduler } from '../graph/mailbox-scheduler.js';
import { everySlotServed, LimitAvailability, type LocalReason } from './limit-availability.js';
import { mailboxKeys, mailboxScripts, subscribeToFreedSlots, type MailboxKeys, type MailboxScripts } from './mailbox-scripts.js';
import { boundedCommand, type RedisClient } from './redis-connection.js';
import { failureOf, type RedisFailure } from './redis-failure.js';
import type { SharedLimiterObserver } from './shared-limiter-observer.js';

export interface SharedMailboxOptions {
  /** Calls in flight per mailbox over every replica (`GRAPH_MAILBOX_CONCURRENCY`). */
  concurrency: number;
  /** Calls waiting per mailbox in this replica (`GRAPH_MAILBOX_QUEUE`). */
  queueLimit: number;
  /** How long a slot is held without a refresh (`GRAPH_MAILBOX_LEASE_MS`); a killed replica's slots free after it. */
  leaseMs: number;
}

interface Waiter {
  resolve(lease: MailboxLease): void;
  reject(error: GatewayError): void;
  deadline: number;
  timer: NodeJS.Timeout;
  /** Slots the call needs at once. */
  slots: number;
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

/** The leases this replica holds in Redis on one mailbox, refreshed together by the timer. */
interface Held {
  keys: ReturnType<typeof mailboxKeys>;
  tokens: Set<string>;
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
  #redis: RedisClient | undefined;
  #scripts: MailboxScripts | undefined;
  readonly #local: MailboxScheduler;
  readonly #availability: LimitAvailability;
  readonly #observer: SharedLimiterObserver | undefined;
  readonly #queues = new Map<string, Queue>();
  readonly #queuesByTag = new Map<string, Queue>();
  readonly #held = new Map<string, Held>();
  readonly #timer: NodeJS.Timeout;

  /** Keeps the limit per replica until `attach` gives it Redis's connections and their scripts run. */
  constructor(options: SharedMailboxOptions, logger: Logger, observer?: SharedLimiterObserver) {
    this.#options = options;
    this.#local = new MailboxScheduler({ concurrency: options.concurrency, queueLimit: options.queueLimit });
    this.#availability = new LimitAvailability(logger, observer);
    this.#observer = observer;
    this.#timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.#timer.unref();
  }

  /** Redis's connections, once the deployment is known: the limit is shared from the first script that runs. */
  attach(redis: RedisClient, subscriber: RedisClient): void {
    this.#redis = redis;
    this.#scripts = mailboxScripts(redis);
    redis.on('ready', () => void this.probe());
    redis.on('close', () => this.fallBack('disconnected', 'the connection to Redis closed'));
    subscriber.on('message', (_channel: string, tag: string) => {
      const queue = this.#queuesByTag.get(tag);
      if (queue === undefined) return;
      queue.freed = true;
      queue.wake?.();
    });
    // Subscribe on every ready: after a reconnect, and at start-up whenever Redis first answers.
    subscriber.on('ready', () => subscribeToFreedSlots(subscriber));
    if (subscriber.status === 'ready') subscribeToFreedSlots(subscriber);
    if (redis.status === 'ready') void this.probe();
  }

  /** Whether the limit is shared through Redis right now (else this replica keeps its own). */
  get shared(): boolean {
    return this.#availability.shared;
  }

  /** A connection's error: while local, it says why (a refused password never gets as far as a script). */
  connectionFailed(failure: RedisFailure): void {
    if (!this.shared) this.#availability.fallBack(failure, 'connecting');
  }

  /** Why this replica keeps its own limit (one word), or `undefined` while it is shared. */
  get localReason(): LocalReason | undefined {
    return this.#availability.reason;
  }

  acquire(mailbox: string, deadline: number, options: AcquireOptions = {}): MailboxLease | Promise<MailboxLease> {
    // The fall-back's leases are its own: released there, whatever happens to Redis meanwhile.
    if (!this.shared) return this.#local.acquire(mailbox, deadline, options);
    const caller = options.caller ?? '';
    const slots = Math.min(Math.max(1, options.slots ?? 1), this.#options.concurrency);
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
    const slot = new Promise<MailboxLease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        deadline,
        slots,
        caller,
        timer: setTimeout(() => {
          waiting.waiting.remove(waiter);
          this.forgetIfIdle(mailbox);
          reject(waitedPastDeadline());
        }, Math.max(0, deadline - Date.now())),
      };
      waiter.timer.unref();
      waiting.waiting.push(who, waiter, options.retry === true);
    });
    void this.pump(mailbox, waiting);
    return slot;
  }

  /** A grant of Redis leases (`tokens`) as the caller's lease: released in Redis, and no longer refreshed. */
  private sharedLease(mailbox: string, keys: MailboxKeys, tokens: string[]): MailboxLease {
    let held = this.#held.get(mailbox);
    if (held === undefined) this.#held.set(mailbox, (held = { keys, tokens: new Set() }));
    const holder = held;
    for (const token of tokens) holder.tokens.add(token);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const token of tokens) holder.tokens.delete(token);
        if (holder.tokens.size === 0 && this.#held.get(mailbox) === holder) this.#held.delete(mailbox);
        // Not awaited: a release that does not reach Redis frees its slots when the leases expire.
        void this.roundTrip('release', () => this.#scripts!.release(keys, tokens)).catch(() => undefined);
      },
    };
  }

  pause(mailbox: string, ms: number): void {
    this.#local.pause(mailbox, ms);
    if (!this.shared) return;
    // Sent before the release that follows it on the same connection, so Redis sees it first.
    void this.roundTrip('pause', () => this.#scripts!.pause(mailboxKeys(mailbox).pause, ms)).catch(() => undefined);
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
        if (!this.shared) return this.moveToLocal(mailbox, queue);
        const tokens = Array.from({ length: queue.waiting.peek()!.slots }, () => randomUUID());
        queue.freed = false;
        let answer: [number, number];
        try {
          answer = await this.roundTrip('acquire', () =>
            this.#scripts!.acquire(queue.keys, tokens, this.#options.concurrency, this.#options.leaseMs),
          );
        } catch (error) {
          this.fallBack(failureOf(error), 'an acquire failed');
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
        // The slots go to whoever is at the head now (the one who asked may have timed out), if
        // it needs as many; else they go back and the new head asks for its own.
        if (queue.waiting.peek()?.slots !== tokens.length) {
          void this.roundTrip('release', () => this.#scripts!.release(queue.keys, tokens)).catch(() => undefined);
          continue;
        }
        const head = queue.waiting.shift()!;
        clearTimeout(head.timer);
        head.resolve(this.sharedLease(mailbox, queue.keys, tokens));
      }
    } finally {
      queue.pumping = false;
      this.forgetIfIdle(mailbox);
    }
  }


  /** Hands a mailbox's waiting calls to the fall-back, in order, each with its own deadline. */
  private moveToLocal(mailbox: string, queue: Queue): void {
    for (const { item: waiter } of queue.waiting.drain()) {
      clearTimeout(waiter.timer);
      try {
        const lease = this.#local.acquire(mailbox, waiter.deadline, { slots: waiter.slots, caller: waiter.caller });
        if (lease instanceof Promise) lease.then(waiter.resolve, waiter.reject);
        else waiter.resolve(lease);
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

  /**
   * Runs the limit's own script (a refresh of no lease) and, on a cluster, sees every slot served:
   * the limit is shared once they succeed, and stays local, saying why, while they fail.
   */
  private async probe(): Promise<void> {
    const redis = this.#redis;
    if (redis === undefined || this.shared || redis.status !== 'ready') return;
    try {
      await this.roundTrip('ping', () => this.#scripts!.refresh(PROBE_KEY, this.#options.leaseMs, []));
      await this.roundTrip('ping', () => everySlotServed(redis));
      this.#availability.join();
    } catch (error) {
      this.#availability.fallBack(failureOf(error), 'a probe failed');
    }
  }

  private fallBack(reason: RedisFailure, why: string): void {
    if (!this.#availability.fallBack(reason, why)) return;
    for (const [mailbox, queue] of this.#queues) {
      if (!queue.pumping) this.moveToLocal(mailbox, queue);
      else queue.wake?.();
    }
  }

  /** Every third of a lease: refresh the leases held; while fallen back, see whether Redis answers again. */
  private async tick(): Promise<void> {
    if (!this.shared) return this.probe();
    for (const held of this.#held.values()) {
      if (held.tokens.size === 0) continue;
      try {
        const lost = await this.roundTrip('refresh', () => this.#scripts!.refresh(held.keys.leases, this.#options.leaseMs, [...held.tokens]));
        if (lost > 0) this.#observer?.leasesLost(lost);
      } catch (error) {
        this.fallBack(failureOf(error), 'a lease refresh failed');
        return;
      }
    }
  }

  private async roundTrip<T>(operation: 'acquire' | 'release' | 'pause' | 'refresh' | 'ping', command: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await boundedCommand(command());
      this.#observer?.redisRoundTrip(operation, (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      this.#observer?.redisRoundTrip(operation, (performance.now() - started) / 1000, false);
      throw error;
    }
  }
}

/** The key a probe refreshes (no lease is ever in it): in a slot of its own on a cluster. */
const PROBE_KEY = 'contact-photo-gateway:{probe}:leases';
