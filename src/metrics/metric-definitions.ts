/**
 * The gateway's Prometheus metrics, defined by what they observe: names, help, labels, buckets.
 * Each function registers its metrics in `registers`, in the order /metrics lists them;
 * metrics.ts records events into them. The definitions are alike in shape on purpose (a reported
 * duplicate pair): each is written out whole, as an operator reads it on /metrics.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Registers = Registry[];

/** How many calls wait for their mailbox, over all mailboxes; read when scraped. */
export type MailboxUsage = () => { mailboxes: number; waiting: number };

/** How many images are being processed, wait, or are held, and the upload bytes admitted; read when scraped. */
export type ImageUsage = () => { active: number; waiting: number; admitted: number; uploadBytes: number };

export function operationMetric(registers: Registers) {
  return new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations answered, by root field(s) and result code (OK or the first error code).',
    labelNames: ['root_field', 'code'] as const,
    registers,
  });
}

export function graphCallMetrics(registers: Registers) {
  return {
    calls: new Counter({
      name: 'graph_requests_total',
      help: 'HTTP requests sent to Microsoft Graph (each attempt), by method and status ("none" when no answer came).',
      labelNames: ['method', 'status'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'graph_retries_total',
      help: 'Retries of Graph calls (429, 503, 504, timeouts, connection failures).',
      labelNames: ['method'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'graph_request_duration_seconds',
      help: 'Time of one HTTP exchange with Microsoft Graph.',
      labelNames: ['method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    mailboxWait: new Histogram({
      name: 'graph_mailbox_wait_seconds',
      help: 'Time calls waited for a free slot on their mailbox (Outlook allows 4 in flight per mailbox).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

export function batchMetrics(registers: Registers) {
  return {
    batches: new Counter({
      name: 'graph_batches_total',
      help: 'JSON batches (POST /$batch) answered by Microsoft Graph after their own retries, by status.',
      labelNames: ['status'] as const,
      registers,
    }),
    size: new Histogram({
      name: 'graph_batch_items',
      help: 'Requests per JSON batch sent (at most GRAPH_BATCH_MAX).',
      buckets: [2, 4, 8, 12, 16, 20],
      registers,
    }),
    items: new Counter({
      name: 'graph_batch_item_responses_total',
      help: "Items of batches' 200 answers, by each item's own status.",
      labelNames: ['status'] as const,
      registers,
    }),
    itemsRetried: new Counter({
      name: 'graph_batch_items_retried_total',
      help: 'Batch items sent again in a later batch, by the status that asked for it (429, 503, 504).',
      labelNames: ['status'] as const,
      registers,
    }),
  };
}

export function photoMetrics(registers: Registers) {
  return {
    seconds: new Histogram({
      name: 'photo_processing_seconds',
      help: "Time spent making an image into a JPEG (an upload, or a thumbnail of Graph's picture), by input format.",
      labelNames: ['operation', 'format'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bytes: new Counter({
      name: 'photo_bytes_total',
      help: 'Bytes of images processed: "in" as received, "out" as the JPEG made of them.',
      labelNames: ['operation', 'direction'] as const,
      registers,
    }),
  };
}

export function sharedLimitMetrics(registers: Registers) {
  return {
    redisSeconds: new Histogram({
      name: 'mailbox_limit_redis_seconds',
      help: 'Round trips of the shared mailbox limit to Redis (REDIS_URL), by operation and outcome (ok, error).',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
      registers,
    }),
    fallbacks: new Counter({
      name: 'mailbox_limit_fallbacks_total',
      help: 'Times the shared mailbox limit fell back to this process because Redis was unavailable.',
      registers,
    }),
    leasesLost: new Counter({
      name: 'mailbox_limit_leases_lost_total',
      help: 'Mailbox slots of this replica found expired or gone in Redis at a refresh.',
      registers,
    }),
    shared: new Gauge({
      name: 'mailbox_limit_shared',
      help: '1 while the mailbox limit is shared through Redis, 0 while this process keeps its own.',
      registers,
    }),
  };
}

/** What is left of each mailbox budget, for the mailbox with the least left; read when scraped (undefined: none kept). */
export type BudgetUsage = () => { requests: number; uploadBytes: number } | undefined;

export function budgetMetrics(registers: Registers, left: BudgetUsage) {
  scrapedGauge(
    registers,
    'graph_mailbox_request_budget_left',
    'Requests left of GRAPH_MAILBOX_REQUEST_BUDGET in the sliding window, for the mailbox with the least left (with REDIS_URL, as Redis last answered this replica).',
    () => left()?.requests ?? 0,
  );
  scrapedGauge(
    registers,
    'graph_mailbox_upload_budget_left_bytes',
    'Bytes left of GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES in the sliding window, for the mailbox with the least left (with REDIS_URL, as Redis last answered this replica).',
    () => left()?.uploadBytes ?? 0,
  );
  return new Counter({
    name: 'graph_mailbox_budget_refusals_total',
    help: "Graph requests refused unsent (TOO_MANY_REQUESTS) because they would pass their mailbox's budget, by budget (requests, upload).",
    labelNames: ['budget'] as const,
    registers,
  });
}

/** A gauge that reads its value when scraped. */
function scrapedGauge(registers: Registers, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

export function imageGauges(registers: Registers, images: ImageUsage): void {
  scrapedGauge(registers, 'photo_images_waiting', 'Images waiting for a turn to be processed (PHOTO_CONCURRENCY are processed at once).', () => images().waiting);
  scrapedGauge(
    registers,
    'photo_images_processing',
    'Images being processed (at most PHOTO_CONCURRENCY), including any past PHOTO_TIMEOUT_MS still stopping.',
    () => images().active,
  );
  scrapedGauge(registers, 'photo_upload_bytes_admitted', 'Announced bytes of the uploads admitted now (at most PHOTO_UPLOAD_BUDGET_BYTES).', () => images().uploadBytes);
  scrapedGauge(
    registers,
    'photo_images_admitted',
    'Images held in memory: uploads being read, waiting, processed or sent, and thumbnails (at most PHOTO_CONCURRENCY + PHOTO_QUEUE).',
    () => images().admitted,
  );
}

export function mailboxGauges(registers: Registers, waitingCalls: MailboxUsage): void {
  scrapedGauge(registers, 'graph_mailbox_waiting_calls', 'Calls waiting for a free slot on their mailbox, over all mailboxes.', () => waitingCalls().waiting);
  scrapedGauge(registers, 'graph_mailboxes_busy', 'Mailboxes with calls in flight, waiting, or paused by a 429.', () => waitingCalls().mailboxes);
}

export function photoCacheMetrics(registers: Registers, bytesHeld: () => number) {
  scrapedGauge(registers, 'photo_cache_bytes', "Bytes the photo cache holds in this process (at most PHOTO_CACHE_MAX_BYTES; 0 with Redis, which holds them).", bytesHeld);
  return {
    reads: new Counter({
      name: 'photo_cache_reads_total',
      help: 'Reads asked of the photo cache, by part (metadata, value, thumbnail of a photo; list, a page of the contact list) and outcome: hit (from the cache), miss (from Graph), shared (joined an identical read in flight).',
      labelNames: ['part', 'outcome'] as const,
      registers,
    }),
    revalidations: new Counter({
      name: 'photo_cache_revalidations_total',
      help: "Stale pictures checked by their metadata's @odata.mediaEtag: unchanged (bytes kept) or changed (read again).",
      labelNames: ['outcome'] as const,
      registers,
    }),
    evictions: new Counter({
      name: 'photo_cache_evictions_total',
      help: 'Entries pushed out of the photo cache of this process to make room (PHOTO_CACHE_MAX_BYTES), least recently used first.',
      registers,
    }),
  };
}
