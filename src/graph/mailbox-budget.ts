import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * Outlook's two other per-mailbox limits, besides the 4 calls in flight: requests per window
 * (10,000 in 10 minutes) and upload bytes per window (150 MB in 5 minutes). Past them Graph
 * answers 429 for minutes to every caller of the mailbox, so the gateway counts them on its side
 * and refuses the call that would pass one, without calling Graph. `MailboxBudgets` counts in
 * this process (the default); redis/'s `SharedMailboxBudget` over every replica.
 */

/** The budgets: so much per mailbox per sliding window. */
export interface MailboxBudgetOptions {
  requests: number;
  requestWindowS: number;
  uploadBytes: number;
  uploadWindowS: number;
}

/** What one attempt costs its mailbox: its Outlook requests (a batch's items) and the bytes it uploads. */
export interface BudgetCost {
  requests: number;
  uploadBytes: number;
}

/** The budget that refused a call. */
export type BudgetName = 'requests' | 'upload';

/** Whether the attempt may go: when not, the budget it would pass and when it may (`retryAfterS`, whole seconds). */
export type BudgetVerdict = { allowed: true } | { allowed: false; budget: BudgetName; retryAfterS: number };

/** What is left of each budget for the mailbox with the least left (for the metrics). */
export interface BudgetLeft {
  requests: number;
  uploadBytes: number;
}

export interface MailboxBudget {
  /**
   * Counts `cost` against `mailbox`'s budgets if it fits both, all or nothing: the verdict at
   * once, or a promise of it (asked of Redis). Never throws: a budget that cannot be asked allows.
   */
  charge(mailbox: string, cost: BudgetCost): BudgetVerdict | Promise<BudgetVerdict>;
  /** The least left of each budget over the mailboxes charged within their windows (the whole budget when none). */
  readonly left: BudgetLeft;
}

/** The window is counted in this many buckets: a request is forgotten up to a bucket (2%) late, never early. */
export const BUDGET_BUCKETS = 50;

/** TOO_MANY_REQUESTS for a call that would pass its mailbox's budget: nothing was sent to Graph. */
export function overBudget(verdict: { budget: BudgetName; retryAfterS: number }): GatewayError {
  const message =
    verdict.budget === 'requests'
      ? "This mailbox has used Outlook's request budget for now (GRAPH_MAILBOX_REQUEST_BUDGET per GRAPH_MAILBOX_REQUEST_WINDOW_S); retry later."
      : "This mailbox has used Outlook's upload budget for now (GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES per GRAPH_MAILBOX_UPLOAD_WINDOW_S); retry later.";
  return new GatewayError(GatewayErrorCode.TOO_MANY_REQUESTS, message, { retryAfter: verdict.retryAfterS });
}
