/**
 * What the Graph client reports as it works; a no-op unless metrics are collected. graph/ owns it
 * and the gateway's metrics implement it, so that graph/ never imports metrics/. Most of its
 * methods run while the call holds its mailbox slots: one that throws fails the call, and the
 * slots still go back.
 */
export interface GraphCallObserver {
  /** One HTTP exchange with Graph ended: Graph's status, or `null` when no answer came. */
  attempt(method: string, status: number | null, seconds: number): void;
  /** A call is about to try again. */
  retry(method: string): void;
  /** A call waited this long for a free slot on its mailbox (only calls that waited). */
  mailboxWait(seconds: number): void;
  /** A `POST /$batch` of `items` requests was answered (after its own retries) with `status`. */
  batch(items: number, status: number): void;
  /** An item of a batch's 200 was answered with `status`. */
  batchItem(status: number): void;
  /** An item answered `status` (429, 503, 504) will be sent again in a later batch. */
  batchItemRetried(status: number): void;
  /** An attempt was refused, unsent, because it would pass its mailbox's request or upload budget. */
  budgetRefused(budget: 'requests' | 'upload'): void;
}
