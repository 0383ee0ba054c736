import { collectDefaultMetrics, Registry } from 'prom-client';
import type { GraphCallObserver } from '../graph/graph-call-observer.js';
import type { PhotoCacheObserver } from '../photo-cache/photo-cache-observer.js';
import type { PhotoObserver } from '../photos/photo-observer.js';
import type { SharedLimiterObserver } from '../redis/shared-limiter-observer.js';
import {
  batchMetrics,
  budgetMetrics,
  graphCallMetrics,
  imageGauges,
  mailboxGauges,
  operationMetric,
  photoCacheMetrics,
  photoMetrics,
  sharedLimitMetrics,
  type BudgetUsage,
  type ImageUsage,
  type MailboxUsage,
} from './metric-definitions.js';

const NO_IMAGES: ImageUsage = () => ({ active: 0, waiting: 0, admitted: 0, uploadBytes: 0 });

/**
 * The gateway's Prometheus metrics, in a registry of its own (so that two gateways in one
 * process, as in tests, do not share counters), with Node's default process metrics. It
 * implements the observers that graph/, photos/, photo-cache/ and redis/ own, and imports nothing
 * else of them.
 */
export class GatewayMetrics implements GraphCallObserver, PhotoObserver, PhotoCacheObserver, SharedLimiterObserver {
  readonly registry = new Registry();
  readonly #operations: ReturnType<typeof operationMetric>;
  readonly #graph: ReturnType<typeof graphCallMetrics>;
  readonly #batches: ReturnType<typeof batchMetrics>;
  readonly #photos: ReturnType<typeof photoMetrics>;
  readonly #sharedLimit: ReturnType<typeof sharedLimitMetrics>;
  readonly #photoCache: ReturnType<typeof photoCacheMetrics>;
  readonly #budgetRefusals: ReturnType<typeof budgetMetrics>;
  // Labelled children kept by label values: prom-client hashes the labels on every call otherwise.
  readonly #operationChild = labelledChildren((rootField: string, code: string) => this.#operations.labels(rootField, code));
  readonly #graphCallChild = labelledChildren((method: string, status: string) => this.#graph.calls.labels(method, status));
  readonly #durationChild = labelledChildren((method: string) => this.#graph.duration.labels(method));
  readonly #batchChild = labelledChildren((status: string) => this.#batches.batches.labels(status));
  // Once per read of every batch (up to 20 a batch): the most frequent of these look-ups.
  readonly #batchItemChild = labelledChildren((status: string) => this.#batches.items.labels(status));
  readonly #redisChild = labelledChildren((operation: string, outcome: string) => this.#sharedLimit.redisSeconds.labels(operation, outcome));

  /**
   * `waitingCalls` reads how many calls wait for their mailbox, `images` how many images are
   * being processed or wait for a turn, `photoCacheBytes` what the photo cache holds, and
   * `budgetLeft` what is left of the mailbox budgets, when scraped.
   */
  constructor(waitingCalls: MailboxUsage, images: ImageUsage = NO_IMAGES, photoCacheBytes: () => number = () => 0, budgetLeft: BudgetUsage = () => undefined) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#operations = operationMetric(registers);
    this.#graph = graphCallMetrics(registers);
    this.#batches = batchMetrics(registers);
    this.#photos = photoMetrics(registers);
    this.#sharedLimit = sharedLimitMetrics(registers);
    this.#photoCache = photoCacheMetrics(registers, photoCacheBytes);
    imageGauges(registers, images);
    mailboxGauges(registers, waitingCalls);
    this.#budgetRefusals = budgetMetrics(registers, budgetLeft);
  }

  /** One operation answered: `rootField` is a label from a fixed set (see operation-log-plugin.ts). */
  operation(rootField: string, code: string): void {
    this.#operationChild(rootField, code).inc();
  }

  attempt(method: string, status: number | null, seconds: number): void {
    this.#graphCallChild(method, status === null ? 'none' : String(status)).inc();
    this.#durationChild(method).observe(seconds);
  }

  retry(method: string): void {
    this.#graph.retries.labels(method).inc();
  }

  mailboxWait(seconds: number): void {
    this.#graph.mailboxWait.observe(seconds);
  }

  batch(items: number, status: number): void {
    this.#batchChild(String(status)).inc();
    this.#batches.size.observe(items);
  }

  batchItem(status: number): void {
    this.#batchItemChild(String(status)).inc();
  }

  batchItemRetried(status: number): void {
    this.#batches.itemsRetried.labels(String(status)).inc();
  }

  budgetRefused(budget: 'requests' | 'upload'): void {
    this.#budgetRefusals.labels(budget).inc();
  }

  redisRoundTrip(operation: string, seconds: number, ok: boolean): void {
    // Two of these per Graph call with Redis: the labelled child is cached, as for the others.
    this.#redisChild(operation, ok ? 'ok' : 'error').observe(seconds);
  }

  fellBack(): void {
    this.#sharedLimit.fallbacks.inc();
  }

  leasesLost(count: number): void {
    this.#sharedLimit.leasesLost.inc(count);
  }

  sharedState(shared: boolean): void {
    this.#sharedLimit.shared.set(shared ? 1 : 0);
  }

  photoProcessed(operation: 'upload' | 'thumbnail', format: string, seconds: number, bytesIn: number, bytesOut: number): void {
    this.#photos.seconds.labels(operation, format).observe(seconds);
    this.#photos.bytes.labels(operation, 'in').inc(bytesIn);
    this.#photos.bytes.labels(operation, 'out').inc(bytesOut);
  }

  photoCacheRead(part: 'metadata' | 'value' | 'thumbnail' | 'list', outcome: 'hit' | 'miss' | 'shared'): void {
    this.#photoCache.reads.labels(part, outcome).inc();
  }

  photoCacheRevalidated(outcome: 'unchanged' | 'changed'): void {
    this.#photoCache.revalidations.labels(outcome).inc();
  }

  photoCacheEvicted(): void {
    this.#photoCache.evictions.inc();
  }
}

/**
 * `labels` memoized by its values, one or two (which never hold the separator, U+0000). No rest
 * parameters: this runs for every Graph call and every operation.
 */
function labelledChildren<Child>(labels: (first: string, second: string) => Child): (first: string, second?: string) => Child {
  const children = new Map<string, Child>();
  return (first, second = '') => {
    const key = `${first}\u0000${second}`;
    let child = children.get(key);
    if (child === undefined) children.set(key, (child = labels(first, second)));
    return child;
  };
}
