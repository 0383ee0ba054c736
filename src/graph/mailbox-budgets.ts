import { BUDGET_BUCKETS, type BudgetCost, type BudgetLeft, type BudgetVerdict, type MailboxBudget, type MailboxBudgetOptions } from './mailbox-budget.js';

const ALLOWED: BudgetVerdict = { allowed: true };

/**
 * One budget of one mailbox over a sliding window, counted in buckets of a fiftieth of it (so a
 * mailbox holds at most 51 numbers, whatever its traffic). A bucket is forgotten once all of it
 * is older than the window: a request may be counted up to a bucket too long, never too short,
 * so the gateway stays under Outlook's count. redis/'s budget script does the same in Lua.
 */
class SlidingWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #bucketMs: number;
  /** Bucket numbers (time / bucketMs), oldest first, and what each counted. */
  readonly #buckets: number[] = [];
  readonly #counts: number[] = [];
  #used = 0;

  constructor(limit: number, windowS: number) {
    this.#limit = limit;
    this.#windowMs = windowS * 1000;
    this.#bucketMs = Math.max(1, Math.floor(this.#windowMs / BUDGET_BUCKETS));
  }

  get left(): number {
    return this.#limit - this.#used;
  }

  get empty(): boolean {
    return this.#used === 0;
  }

  /** Forgets the buckets wholly older than the window that ends at `now`. */
  prune(now: number): void {
    const horizon = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#buckets.length && (this.#buckets[drop]! + 1) * this.#bucketMs <= horizon) this.#used -= this.#counts[drop++]!;
    if (drop === 0) return;
    this.#buckets.splice(0, drop);
    this.#counts.splice(0, drop);
  }

  /** Milliseconds until `cost` fits (0: it fits now), once pruned at `now`. */
  waitFor(cost: number, now: number): number {
    if (cost === 0 || this.#used + cost <= this.#limit) return 0;
    // Never fits (the settings' minimums rule it out): a whole window, rather than a promise broken.
    if (cost > this.#limit) return this.#windowMs;
    const needed = this.#used + cost - this.#limit;
    let freed = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      freed += this.#counts[i]!;
      if (freed >= needed) return Math.max(1, (this.#buckets[i]! + 1) * this.#bucketMs + this.#windowMs - now);
    }
    return this.#windowMs;
  }

  add(cost: number, now: number): void {
    if (cost === 0) return;
    const bucket = Math.floor(now / this.#bucketMs);
    const last = this.#buckets.length - 1;
    if (last >= 0 && this.#buckets[last] === bucket) this.#counts[last]! += cost;
    else {
      this.#buckets.push(bucket);
      this.#counts.push(cost);
    }
    this.#used += cost;
  }
}

interface Budgets {
  requests: SlidingWindow;
  uploads: SlidingWindow;
}

/**
 * Outlook's request and upload budgets per mailbox, counted in this process (without `REDIS_URL`,
 * and as the shared budget's fall-back). A mailbox whose windows are empty has no entry, and the
 * entries are swept once per as many charges as there are, so idle mailboxes cost no memory.
 */
export class MailboxBudgets implements MailboxBudget {
  readonly #options: MailboxBudgetOptions;
  readonly #now: () => number;
  readonly #mailboxes = new Map<string, Budgets>();
  #chargesSinceSweep = 0;

  /** `now` is the clock (epoch ms), `Date.now` unless a test moves time itself. */
  constructor(options: MailboxBudgetOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  charge(mailbox: string, cost: BudgetCost): BudgetVerdict {
    const now = this.#now();
    this.sweepNowAndThen(now);
    const entry = this.entry(mailbox, now);
    const requestWait = entry.requests.waitFor(cost.requests, now);
    const uploadWait = entry.uploads.waitFor(cost.uploadBytes, now);
    if (requestWait === 0 && uploadWait === 0) {
      entry.requests.add(cost.requests, now);
      entry.uploads.add(cost.uploadBytes, now);
      return ALLOWED;
    }
    this.forgetIfEmpty(mailbox, entry);
    const budget = requestWait >= uploadWait ? 'requests' : 'upload';
    return { allowed: false, budget, retryAfterS: Math.max(1, Math.ceil(Math.max(requestWait, uploadWait) / 1000)) };
  }

  /** Counts `cost` whatever is left: calls the shared budget allowed, so that a fall-back here starts from this replica's own. */
  record(mailbox: string, cost: BudgetCost): void {
    const now = this.#now();
    this.sweepNowAndThen(now);
    const entry = this.entry(mailbox, now);
    entry.requests.add(cost.requests, now);
    entry.uploads.add(cost.uploadBytes, now);
  }

  get left(): BudgetLeft {
    const now = this.#now();
    let requests = this.#options.requests;
    let uploadBytes = this.#options.uploadBytes;
    for (const [mailbox, entry] of this.#mailboxes) {
      entry.requests.prune(now);
      entry.uploads.prune(now);
      if (this.forgetIfEmpty(mailbox, entry)) continue;
      requests = Math.min(requests, entry.requests.left);
      uploadBytes = Math.min(uploadBytes, entry.uploads.left);
    }
    return { requests, uploadBytes };
  }

  /** Mailboxes with something counted in their windows. */
  get size(): number {
    return this.#mailboxes.size;
  }

  /** `mailbox`'s budgets, pruned at `now` (made when it has none). */
  private entry(mailbox: string, now: number): Budgets {
    let entry = this.#mailboxes.get(mailbox);
    if (entry === undefined) {
      const { requests, requestWindowS, uploadBytes, uploadWindowS } = this.#options;
      entry = { requests: new SlidingWindow(requests, requestWindowS), uploads: new SlidingWindow(uploadBytes, uploadWindowS) };
      this.#mailboxes.set(mailbox, entry);
    } else {
      entry.requests.prune(now);
      entry.uploads.prune(now);
    }
    return entry;
  }

  /** Drops the mailboxes whose windows emptied, once per as many charges as there are mailboxes (constant time per charge, amortized). */
  private sweepNowAndThen(now: number): void {
    if (++this.#chargesSinceSweep < this.#mailboxes.size) return;
    this.#chargesSinceSweep = 0;
    for (const [mailbox, entry] of this.#mailboxes) {
      entry.requests.prune(now);
      entry.uploads.prune(now);
      this.forgetIfEmpty(mailbox, entry);
    }
  }

  private forgetIfEmpty(mailbox: string, entry: Budgets): boolean {
    if (!entry.requests.empty || !entry.uploads.empty) return false;
    this.#mailboxes.delete(mailbox);
    return true;
  }
}
