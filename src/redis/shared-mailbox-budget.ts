import type { Logger } from 'pino';
import type { BudgetCost, BudgetLeft, BudgetVerdict, MailboxBudget, MailboxBudgetOptions } from '../graph/mailbox-budget.js';
import { MailboxBudgets } from '../graph/mailbox-budgets.js';
import { budgetScript, type BudgetAnswer } from './budget-script.js';
import type { RedisClient } from './redis-connection.js';
import type { SharedLimiterObserver } from './shared-limiter-observer.js';

const ALLOWED: BudgetVerdict = { allowed: true };

/** After a failed round trip, how often Redis is asked (a PING, in the background) whether it answers again. */
const PROBE_EVERY_MS = 1000;

/**
 * Outlook's request and upload budgets per mailbox, shared by every replica that uses the same
 * Redis: each attempt is one round trip (`budget-script.ts`), answered before the call waits for
 * its mailbox slot.
 *
 * Redis unavailable never fails a call, as with the mailbox limit: while the connection is down,
 * or after a command failed or timed out, each replica counts in its own `MailboxBudgets` (which
 * also counted what Redis allowed it, so it starts from this replica's share), with one warning;
 * a PING in the background, at most once a second and never in a call's way, brings it back.
 */
export class SharedMailboxBudget implements MailboxBudget {
  #redis: RedisClient | undefined;
  readonly #options: MailboxBudgetOptions;
  #charge: ((mailbox: string, cost: BudgetCost) => Promise<BudgetAnswer>) | undefined;
  readonly #local: MailboxBudgets;
  readonly #logger: Logger;
  readonly #observer: SharedLimiterObserver | undefined;
  /** What Redis last answered was left of each mailbox's budgets, and when: the metrics' figure. */
  readonly #seen = new Map<string, BudgetLeft & { at: number }>();
  #shared = false;
  #fellBack = false;
  #probeAfter = 0;
  #answersSinceSweep = 0;

  /** Counts in this process until `attach` gives it Redis's connection (the deployment known). */
  constructor(options: MailboxBudgetOptions, logger: Logger, observer?: SharedLimiterObserver) {
    this.#options = options;
    this.#local = new MailboxBudgets(options);
    this.#logger = logger;
    this.#observer = observer;
  }

  attach(redis: RedisClient): void {
    this.#redis = redis;
    this.#charge = budgetScript(redis, this.#options);
    redis.on('ready', () => this.join());
    redis.on('close', () => this.fallBack('the connection to Redis closed'));
    if (redis.status === 'ready') this.join();
  }

  /** Whether the budgets are counted in Redis right now (else this replica counts its own). */
  get shared(): boolean {
    return this.#shared;
  }

  charge(mailbox: string, cost: BudgetCost): BudgetVerdict | Promise<BudgetVerdict> {
    if (!this.#shared) {
      this.probeNowAndThen();
      return this.#local.charge(mailbox, cost);
    }
    return this.chargeShared(mailbox, cost);
  }

  get left(): BudgetLeft {
    this.forgetOldAnswers();
    let { requests, uploadBytes } = this.#local.left;
    for (const seen of this.#seen.values()) {
      requests = Math.min(requests, seen.requests);
      uploadBytes = Math.min(uploadBytes, seen.uploadBytes);
    }
    return { requests, uploadBytes };
  }

  /** Drops the answers older than the longer window, which say nothing any more. */
  private forgetOldAnswers(): void {
    this.#answersSinceSweep = 0;
    const since = Date.now() - Math.max(this.#options.requestWindowS, this.#options.uploadWindowS) * 1000;
    for (const [mailbox, seen] of this.#seen) if (seen.at < since) this.#seen.delete(mailbox);
  }

  private async chargeShared(mailbox: string, cost: BudgetCost): Promise<BudgetVerdict> {
    let answer: BudgetAnswer;
    const started = performance.now();
    try {
      answer = await this.#charge!(mailbox, cost);
      this.#observer?.redisRoundTrip('budget', (performance.now() - started) / 1000, true);
    } catch {
      this.#observer?.redisRoundTrip('budget', (performance.now() - started) / 1000, false);
      this.fallBack('a command to Redis failed or timed out');
      return this.#local.charge(mailbox, cost);
    }
    const [allowed, budget, waitMs, requests, uploadBytes] = answer;
    this.#seen.set(mailbox, { requests, uploadBytes, at: Date.now() });
    // Swept once per as many answers as there are (constant time per call, amortized), and when scraped.
    if (++this.#answersSinceSweep >= this.#seen.size) this.forgetOldAnswers();
    if (allowed !== 1) return { allowed: false, budget: budget === 2 ? 'upload' : 'requests', retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    this.#local.record(mailbox, cost);
    return ALLOWED;
  }

  /** While fallen back: a PING now and then, in the background, to see whether Redis answers again. */
  private probeNowAndThen(): void {
    if (!this.#fellBack || this.#redis?.status !== 'ready' || Date.now() < this.#probeAfter) return;
    this.#probeAfter = Date.now() + PROBE_EVERY_MS;
    this.#redis.ping().then(
      () => this.join(),
      () => undefined,
    );
  }

  private join(): void {
    if (this.#shared) return;
    this.#shared = true;
    if (this.#fellBack) this.#logger.warn('mailbox budgets: Redis answers again, the budgets are shared again');
  }

  private fallBack(reason: string): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#fellBack = true;
    this.#probeAfter = Date.now() + PROBE_EVERY_MS;
    this.#logger.warn({ reason }, 'mailbox budgets: Redis unavailable, each replica counts its own until it is back');
  }
}
