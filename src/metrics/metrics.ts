import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GraphCallObserver } from '../graph/graph-call-observer.js';
import type { SharedLimiterObserver } from '../redis/shared-mailbox-scheduler.js';

/** Told of each image the gateway processed. */
export interface PhotoObserver {
  /**
   * An upload made into Outlook's JPEG, or a thumbnail made of Graph's picture: the input's
   * format, the time spent on it, and its size in and out, in bytes.
   */
  photoProcessed(operation: 'upload' | 'thumbnail', format: string, seconds: number, bytesIn: number, bytesOut: number): void;
}

/**
 * The gateway's Prometheus metrics, in a registry of its own (so that two gateways in one
 * process, as in tests, do not share counters), with Node's default process metrics.
 */
export class GatewayMetrics implements GraphCallObserver, PhotoObserver, SharedLimiterObserver {
  readonly registry = new Registry();
  readonly #operations: Counter<'root_field' | 'code'>;
  readonly #graphCalls: Counter<'method' | 'status'>;
  readonly #retries: Counter<'method'>;
  readonly #graphDuration: Histogram<'method'>;
  readonly #mailboxWait: Histogram;
  readonly #batches: Counter<'status'>;
  readonly #batchSize: Histogram;
  readonly #batchItems: Counter<'status'>;
  readonly #batchItemsRetried: Counter<'status'>;
  readonly #photoSeconds: Histogram<'operation' | 'format'>;
  readonly #photoBytes: Counter<'operation' | 'direction'>;
  readonly #redisSeconds: Histogram<'operation' | 'outcome'>;
  readonly #fallbacks: Counter;
  readonly #leasesLost: Counter;
  readonly #shared: Gauge;
  // Labelled children by label values: prom-client hashes the labels on every call otherwise.
  readonly #operationChildren = new Map<string, ReturnType<Counter<'root_field' | 'code'>['labels']>>();
  readonly #graphCallChildren = new Map<string, ReturnType<Counter<'method' | 'status'>['labels']>>();
  readonly #durationChildren = new Map<string, ReturnType<Histogram<'method'>['labels']>>();
  readonly #redisChildren = new Map<string, ReturnType<Histogram<'operation' | 'outcome'>['labels']>>();

  /**
   * `waitingCalls` reads how many calls wait for their mailbox, and `images` how many images are
   * being processed or wait for a turn, when scraped.
   */
  constructor(
    waitingCalls: () => { mailboxes: number; waiting: number },
    images: () => { active: number; waiting: number; admitted: number; uploadBytes: number } = () => ({ active: 0, waiting: 0, admitted: 0, uploadBytes: 0 }),
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#operations = new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations answered, by root field(s) and result code (OK or the first error code).',
      labelNames: ['root_field', 'code'],
      registers,
    });
    this.#graphCalls = new Counter({
      name: 'graph_requests_total',
      help: 'HTTP requests sent to Microsoft Graph (each attempt), by method and status ("none" when no answer came).',
      labelNames: ['method', 'status'],
      registers,
    });
    this.#retries = new Counter({
      name: 'graph_retries_total',
      help: 'Retries of Graph calls (429, 503, 504, timeouts, connection failures).',
      labelNames: ['method'],
      registers,
    });
    this.#graphDuration = new Histogram({
      name: 'graph_request_duration_seconds',
      help: 'Time of one HTTP exchange with Microsoft Graph.',
      labelNames: ['method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#mailboxWait = new Histogram({
      name: 'graph_mailbox_wait_seconds',
      help: 'Time calls waited for a free slot on their mailbox (Outlook allows 4 in flight per mailbox).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#batches = new Counter({
      name: 'graph_batches_total',
      help: 'JSON batches (POST /$batch) answered by Microsoft Graph after their own retries, by status.',
      labelNames: ['status'],
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'graph_batch_items',
      help: 'Requests per JSON batch sent (at most GRAPH_BATCH_MAX).',
      buckets: [2, 4, 8, 12, 16, 20],
      registers,
    });
    this.#batchItems = new Counter({
      name: 'graph_batch_item_responses_total',
      help: "Items of batches' 200 answers, by each item's own status.",
      labelNames: ['status'],
      registers,
    });
    this.#batchItemsRetried = new Counter({
      name: 'graph_batch_items_retried_total',
      help: 'Batch items sent again in a later batch, by the status that asked for it (429, 503, 504).',
      labelNames: ['status'],
      registers,
    });
    this.#photoSeconds = new Histogram({
      name: 'photo_processing_seconds',
      help: 'Time spent making an image into a JPEG (an upload, or a thumbnail of Graph\'s picture), by input format.',
      labelNames: ['operation', 'format'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#photoBytes = new Counter({
      name: 'photo_bytes_total',
      help: 'Bytes of images processed: "in" as received, "out" as the JPEG made of them.',
      labelNames: ['operation', 'direction'],
      registers,
    });
    this.#redisSeconds = new Histogram({
      name: 'mailbox_limit_redis_seconds',
      help: 'Round trips of the shared mailbox limit to Redis (REDIS_URL), by operation and outcome (ok, error).',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
      registers,
    });
    this.#fallbacks = new Counter({
      name: 'mailbox_limit_fallbacks_total',
      help: 'Times the shared mailbox limit fell back to this process because Redis was unavailable.',
      registers,
    });
    this.#leasesLost = new Counter({
      name: 'mailbox_limit_leases_lost_total',
      help: 'Mailbox slots of this replica found expired or gone in Redis at a refresh.',
      registers,
    });
    this.#shared = new Gauge({
      name: 'mailbox_limit_shared',
      help: '1 while the mailbox limit is shared through Redis, 0 while this process keeps its own.',
      registers,
    });
    new Gauge({
      name: 'photo_images_waiting',
      help: 'Images waiting for a turn to be processed (PHOTO_CONCURRENCY are processed at once).',
      registers,
      collect() {
        this.set(images().waiting);
      },
    });
    new Gauge({
      name: 'photo_images_processing',
      help: 'Images being processed (at most PHOTO_CONCURRENCY), including any past PHOTO_TIMEOUT_MS still stopping.',
      registers,
      collect() {
        this.set(images().active);
      },
    });
    new Gauge({
      name: 'photo_upload_bytes_admitted',
      help: 'Announced bytes of the uploads admitted now (at most PHOTO_UPLOAD_BUDGET_BYTES).',
      registers,
      collect() {
        this.set(images().uploadBytes);
      },
    });
    new Gauge({
      name: 'photo_images_admitted',
      help: 'Images held in memory: uploads being read, waiting, processed or sent, and thumbnails (at most PHOTO_CONCURRENCY + PHOTO_QUEUE).',
      registers,
      collect() {
        this.set(images().admitted);
      },
    });
    new Gauge({
      name: 'graph_mailbox_waiting_calls',
      help: 'Calls waiting for a free slot on their mailbox, over all mailboxes.',
      registers,
      collect() {
        this.set(waitingCalls().waiting);
      },
    });
    new Gauge({
      name: 'graph_mailboxes_busy',
      help: 'Mailboxes with calls in flight, waiting, or paused by a 429.',
      registers,
      collect() {
        this.set(waitingCalls().mailboxes);
      },
    });
  }

  /** One operation answered: `rootField` is a label from a fixed set (see operation-log-plugin.ts). */
  operation(rootField: string, code: string): void {
    const key = `${rootField}\u0000${code}`;
    let child = this.#operationChildren.get(key);
    if (!child) this.#operationChildren.set(key, (child = this.#operations.labels(rootField, code)));
    child.inc();
  }

  attempt(method: string, status: number | null, seconds: number): void {
    const key = `${method} ${status}`;
    let child = this.#graphCallChildren.get(key);
    if (!child) this.#graphCallChildren.set(key, (child = this.#graphCalls.labels(method, status === null ? 'none' : String(status))));
    child.inc();
    let duration = this.#durationChildren.get(method);
    if (!duration) this.#durationChildren.set(method, (duration = this.#graphDuration.labels(method)));
    duration.observe(seconds);
  }

  retry(method: string): void {
    this.#retries.labels(method).inc();
  }

  mailboxWait(seconds: number): void {
    this.#mailboxWait.observe(seconds);
  }

  batch(items: number, status: number): void {
    this.#batches.labels(String(status)).inc();
    this.#batchSize.observe(items);
  }

  batchItem(status: number): void {
    this.#batchItems.labels(String(status)).inc();
  }

  batchItemRetried(status: number): void {
    this.#batchItemsRetried.labels(String(status)).inc();
  }

  redisRoundTrip(operation: string, seconds: number, ok: boolean): void {
    // Two of these per Graph call with Redis: the labelled child is cached, as for the others.
    const key = `${operation} ${ok}`;
    let child = this.#redisChildren.get(key);
    if (!child) this.#redisChildren.set(key, (child = this.#redisSeconds.labels(operation, ok ? 'ok' : 'error')));
    child.observe(seconds);
  }

  fellBack(): void {
    this.#fallbacks.inc();
  }

  leasesLost(count: number): void {
    this.#leasesLost.inc(count);
  }

  sharedState(shared: boolean): void {
    this.#shared.set(shared ? 1 : 0);
  }

  photoProcessed(operation: 'upload' | 'thumbnail', format: string, seconds: number, bytesIn: number, bytesOut: number): void {
    this.#photoSeconds.labels(operation, format).observe(seconds);
    this.#photoBytes.labels(operation, 'in').inc(bytesIn);
    this.#photoBytes.labels(operation, 'out').inc(bytesOut);
  }
}
