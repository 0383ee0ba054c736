import { ConfigError } from './config-error.js';
import { decimal, integer, parseUrl, raw, type Env } from './env-values.js';

/** How the gateway calls Microsoft Graph: where, its retries and time limits, batching, the per-mailbox limit. */
export interface GraphConfig {
  /** Graph's base URL, without a trailing slash. */
  baseUrl: string;
  maxRetries: number;
  maxRetryAfterS: number;
  timeoutMs: number;
  deadlineMs: number;
  /** Reads sent together in one `POST /$batch` at most (`GRAPH_BATCH_MAX`, 1 to 20; 1 turns batching off). */
  batchMax: number;
  /** Outlook's per-mailbox limit, kept by the gateway (per process, or shared through `REDIS_URL`). */
  mailbox: {
    /** Calls in flight per mailbox (`GRAPH_MAILBOX_CONCURRENCY`). */
    concurrency: number;
    /** Calls waiting per mailbox before TOO_MANY_REQUESTS (`GRAPH_MAILBOX_QUEUE`). */
    queueLimit: number;
    /** With Redis: how long a slot is held without a refresh (`GRAPH_MAILBOX_LEASE_MS`). */
    leaseMs: number;
  };
  /** Outlook's per-mailbox budgets over a sliding window, kept by the gateway like the limit above. */
  budget: MailboxBudgetSettings;
}

/** Requests and upload bytes per mailbox per window (Outlook: 10,000 in 10 minutes, 150 MB in 5 minutes). */
export interface MailboxBudgetSettings {
  /** Requests per mailbox per window (`GRAPH_MAILBOX_REQUEST_BUDGET`); a batch's items count one each. */
  requests: number;
  /** That window, in seconds (`GRAPH_MAILBOX_REQUEST_WINDOW_S`). */
  requestWindowS: number;
  /** Bytes uploaded per mailbox per window (`GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES`). */
  uploadBytes: number;
  /** That window, in seconds (`GRAPH_MAILBOX_UPLOAD_WINDOW_S`). */
  uploadWindowS: number;
}

/** A full batch (Graph allows 20 requests in one) must fit the request budget, or it could never be sent. */
const MIN_REQUEST_BUDGET = 20;
/** One photo at Graph's 4 MB cap (limits/graph-photo-limits.ts, not importable here) must fit the upload budget. */
const MIN_UPLOAD_BUDGET_BYTES = 4 * 1024 * 1024;

export function graphConfig(env: Env): GraphConfig {
  return {
    baseUrl: graphBaseUrl(env),
    maxRetries: integer(env, 'GRAPH_MAX_RETRIES', 3, 0, 10),
    maxRetryAfterS: decimal(env, 'GRAPH_MAX_RETRY_AFTER_S', 30, 0, 3600),
    timeoutMs: integer(env, 'GRAPH_TIMEOUT_MS', 10_000, 1, 600_000),
    deadlineMs: integer(env, 'GRAPH_DEADLINE_MS', 30_000, 1, 3_600_000),
    batchMax: integer(env, 'GRAPH_BATCH_MAX', 20, 1, 20),
    mailbox: {
      concurrency: integer(env, 'GRAPH_MAILBOX_CONCURRENCY', 4, 1, 1000),
      queueLimit: integer(env, 'GRAPH_MAILBOX_QUEUE', 100, 0, 100_000),
      leaseMs: integer(env, 'GRAPH_MAILBOX_LEASE_MS', 5000, 100, 600_000),
    },
    budget: {
      requests: integer(env, 'GRAPH_MAILBOX_REQUEST_BUDGET', 10_000, MIN_REQUEST_BUDGET, 10_000_000),
      requestWindowS: integer(env, 'GRAPH_MAILBOX_REQUEST_WINDOW_S', 600, 1, 86_400),
      // Microsoft's "150 MB" read as the smaller of its two meanings: 150,000,000 bytes.
      uploadBytes: integer(env, 'GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES', 150_000_000, MIN_UPLOAD_BUDGET_BYTES, 1024 ** 4),
      uploadWindowS: integer(env, 'GRAPH_MAILBOX_UPLOAD_WINDOW_S', 300, 1, 86_400),
    },
  };
}

/** The only host that ever receives a caller's token: nothing in its URL but a scheme, a host and a path. */
function graphBaseUrl(env: Env): string {
  const name = 'GRAPH_BASE_URL';
  const value = raw(env, name) ?? 'https://graph.microsoft.com/beta';
  const url = parseUrl(value, ['https:', 'http:']);
  if (!url) throw new ConfigError(name, 'must be an absolute http(s) URL', value);
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(name, 'must not contain credentials, a query or a fragment', value);
  }
  return url.href.replace(/\/+$/, '');
}
