/**
 * Graph's throttling rules (see docs/graph-behaviour.md): which answers are worth another attempt,
 * how long to wait before it, and how long a 429 holds back the mailbox's other calls. Pure
 * functions, so the policy is tested without a clock.
 */
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { GraphResponse } from './types.js';

/** First wait when Graph gave no `Retry-After`. */
export const BASE_BACKOFF_MS = 500;
/** Longest wait when Graph gave no `Retry-After`. */
export const MAX_BACKOFF_MS = 8000;
/** Each computed wait is moved by up to this fraction either way, so callers do not retry in step. */
export const JITTER = 0.2;

/** 429, 503 and 504 are retried, as Microsoft's own SDKs do; every other status is final. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 503 || status === 504;
}

/** Of the calls that got no usable answer, timeouts and lost connections are retried; a malformed answer is not. */
function isRetryableFailure(code: GatewayErrorCode): boolean {
  return code === GatewayErrorCode.GATEWAY_TIMEOUT || code === GatewayErrorCode.UPSTREAM_UNAVAILABLE;
}

const DELAY_SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;

/**
 * Reads a `Retry-After` header: delay-seconds (Graph sends fractions such as `2.128`) or an
 * HTTP-date. Answers the wait in seconds, or `undefined` when the header is absent or unreadable
 * (the caller then falls back to exponential backoff). A date in the past means no wait.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds) return Number(seconds[1]);
  // Only strings that start like an HTTP-date (IMF-fixdate, RFC 850 or asctime, all of which
  // open with a day name): Date.parse also reads bare numbers and other forms.
  if (!/^[A-Za-z]{3,9},? /.test(value.trim())) return undefined;
  // HTTP-dates are always GMT; asctime's form does not say so, and Date.parse would read it as local time.
  const at = Date.parse(/\b(GMT|UTC)\b/.test(value) ? value : `${value.trim()} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - nowMs) / 1000);
}

/**
 * The wait before attempt `failedAttempts + 1` when Graph gave no `Retry-After`: 500 ms, doubling
 * after each failed attempt, capped at 8 s, with +-20% jitter.
 *
 * @param random a number in [0, 1), `Math.random()` outside tests.
 */
export function backoffDelayMs(failedAttempts: number, random: number): number {
  const base = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (failedAttempts - 1));
  return base * (1 - JITTER + 2 * JITTER * random);
}

/** What an attempt's answer tells the caller to do next. */
export type RetryDecision =
  /** Not worth another attempt (a success, or a status retrying cannot change): answer it. */
  | { kind: 'final' }
  /** Try again after `waitMs`. */
  | ({ kind: 'retry'; waitMs: number } & MailboxPause)
  /**
   * Worth another attempt but none will be made (retries used up, a wait above
   * `GRAPH_MAX_RETRY_AFTER_S`, one past the deadline, or shutdown under way): answer it, telling the caller to come
   * back in `retryAfterS`. `waitMs` is the wait Graph asked for.
   */
  | ({ kind: 'give-up'; waitMs: number; retryAfterS: number } & MailboxPause);

interface MailboxPause {
  /**
   * For a 429 only: a 429 is about the mailbox, not the call, so the mailbox's other calls hold
   * back this long too: the wait, but `GRAPH_MAX_RETRY_AFTER_S` at most (one caller's 429 with
   * Retry-After: 86400 must not stop the mailbox for every caller, and every replica, for a day).
   */
  pauseMs?: number;
}

/** Where the call stands, and the limits it runs under. */
export interface RetryContext {
  /** Attempts made so far, the one just answered included. */
  attempt: number;
  maxRetries: number;
  maxRetryAfterS: number;
  nowMs: number;
  /** When the whole call must be answered (epoch ms). */
  deadlineMs: number;
  /** A number in [0, 1) for the backoff's jitter. */
  random: number;
  /** The gateway is shutting down: no new attempt starts. */
  stopping?: boolean;
}

/**
 * What to do after an attempt, the same for a single call and for an item of a batch: `outcome`
 * is Graph's answer (a direct one or a batch item's), or the `GatewayError` of an attempt that got
 * no usable answer. Decides whether it is worth another attempt; the wait: Graph's `Retry-After`
 * when it sent a readable one, else exponential backoff; no retry past `maxRetries`, for a
 * `Retry-After` above `maxRetryAfterS`, or for a wait that would end past the deadline; and for a
 * 429 the mailbox's pause (`pauseMs`).
 */
export function decideAfterAttempt(outcome: GraphResponse | GatewayError, context: RetryContext): RetryDecision {
  if (outcome instanceof GatewayError) return decide(isRetryableFailure(outcome.code), undefined, false, context);
  return decide(isRetryableStatus(outcome.status), headerValue(outcome, 'retry-after'), outcome.status === 429, context);
}

const FINAL: RetryDecision = Object.freeze({ kind: 'final' });

function decide(retryable: boolean, retryAfter: string | undefined, throttled: boolean, context: RetryContext): RetryDecision {
  if (!retryable) return FINAL;
  const retryAfterS = parseRetryAfter(retryAfter, context.nowMs);
  const waitMs = retryAfterS !== undefined ? retryAfterS * 1000 : backoffDelayMs(context.attempt, context.random);
  const giveUp =
    context.attempt > context.maxRetries ||
    (retryAfterS !== undefined && retryAfterS > context.maxRetryAfterS) ||
    context.nowMs + waitMs >= context.deadlineMs ||
    context.stopping === true;
  if (!giveUp) return throttled ? { kind: 'retry', waitMs, pauseMs: pauseFor(waitMs, context) } : { kind: 'retry', waitMs };
  const comeBackS = retryAfterS ?? Math.round(waitMs) / 1000;
  if (throttled) return { kind: 'give-up', waitMs, retryAfterS: comeBackS, pauseMs: pauseFor(waitMs, context) };
  return { kind: 'give-up', waitMs, retryAfterS: comeBackS };
}

function pauseFor(waitMs: number, context: RetryContext): number {
  return Math.min(waitMs, context.maxRetryAfterS * 1000);
}

function headerValue(response: GraphResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
