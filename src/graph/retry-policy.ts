/**
 * Graph's throttling rules (see shared/graph-facts.md): which answers are worth another attempt,
 * and how long to wait before it. Pure functions, so the policy is tested without a clock.
 */

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
