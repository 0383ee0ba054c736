import type { GraphCallObserver } from './graph-call-observer.js';
import type { MailboxBudget, MailboxBudgetOptions } from './mailbox-budget.js';
import type { MailboxLimiter } from './mailbox-limiter.js';
import type { MailboxSchedulerOptions } from './mailbox-scheduler.js';

/** How a `GraphClient` calls Graph: where, its retry and time limits, and what it is told to use. */
export interface GraphClientOptions {
  /** Graph's base URL, without a trailing slash, e.g. `https://graph.microsoft.com/beta`. */
  baseUrl: string;
  /** Retries after the first attempt, for 429, 503, 504, timeouts and connection failures. */
  maxRetries: number;
  /** A `Retry-After` longer than this many seconds is not waited for: the error is answered at once. */
  maxRetryAfterS: number;
  /** Timeout of one attempt, in milliseconds. */
  timeoutMs: number;
  /** Time for the whole call, attempts and waits together, in milliseconds. */
  deadlineMs: number;
  /** The `User-Agent` sent to Graph. */
  userAgent: string;
  /** Outlook's per-mailbox limit, kept by a `MailboxScheduler`: calls in flight, and calls waiting. */
  mailbox: MailboxSchedulerOptions;
  /** Keeps that limit instead of a `MailboxScheduler` of this process (the Redis-shared one). */
  limiter?: MailboxLimiter;
  /** Outlook's request and upload budgets per mailbox, kept by a `MailboxBudgets` of this process; none when absent. */
  budget?: MailboxBudgetOptions;
  /** Keeps those budgets instead (the Redis-shared one). */
  budgets?: MailboxBudget;
  /** Ends every call in flight at once (the gateway's shutdown deadline). */
  signal?: AbortSignal;
  /** Told of every attempt, retry and mailbox wait (the gateway's metrics). */
  observer?: GraphCallObserver;
  /** Make a span per call and send trace context (when an OpenTelemetry SDK runs). */
  traced?: boolean;
  /** Source of jitter, `Math.random` unless a test fixes it. */
  random?: () => number;
  /**
   * Reads sent together in one `POST /$batch`, at most (`GRAPH_BATCH_MAX`, Graph allows 20);
   * 1 sends every read as its own request. 20 when absent.
   */
  batchMax?: number;
}

/** What the resolvers know of the caller, and where the client reports what it did. */
export interface GraphCallContext {
  /**
   * Who is calling: waiting calls take turns by it (hashed only when a call waits). The caller's
   * `Authorization` header in passthrough mode, `{tid}/{oid}` with sign-in.
   */
  caller: string;
  /**
   * The `Authorization` header for Graph: the caller's own, forwarded unchanged (passthrough), or
   * a source asked before each attempt (sign-in's exchanged token, which may be renewed between a
   * 429 and its retry). A source's failure fails the call before anything is sent to Graph.
   */
  graphAuthorization: string | (() => Promise<string>);
  /** With sign-in, the user (for traces); never a token. */
  user?: { oid: string; tid: string };
  /** Sent as `client-request-id` on every attempt. */
  clientRequestId: string;
  stats: GraphCallStats;
}

/** Counters for the operation's log line, summed over its Graph calls. */
export interface GraphCallStats {
  attempts: number;
  /** Of those attempts, the `POST /$batch` ones, and the reads they carried (retried ones each time). */
  batches?: number;
  batchItems?: number;
  /** The status of Graph's last answer, `null` when none came. */
  upstreamStatus: number | null;
  /** Photo reads of the operation answered by the photo cache (photo-cache/), without a Graph call. */
  cachedReads?: number;
  /** An uploaded photo's format, sizes before and after, and processing time (never its content). */
  photo?: { inputFormat: string; bytesIn: number; bytesOut: number; processingSeconds: number };
}
