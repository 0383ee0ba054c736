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
}

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
