import { describe, expect, it } from '@jest/globals';
import { GatewayErrorCode } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import {
  backoffDelayMs,
  decideAfterAttempt,
  isRetryableStatus,
  parseRetryAfter,
  type RetryContext,
} from '../../src/graph/retry-policy.js';

const NOW = Date.parse('2026-11-26T10:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['3', 3],
    ['0', 0],
    ['2.128', 2.128],
    [' 7 ', 7],
    ['Thu, 26 Nov 2026 10:00:05 GMT', 5],
    ['Thu, 26 Nov 2026 09:59:00 GMT', 0],
    ['Thursday, 26-Nov-26 10:00:05 GMT', 5],
    ['Thu Nov 26 10:00:05 2026', 5],
  ])('reads %j as %d seconds', (header, seconds) => {
    expect(parseRetryAfter(header, NOW)).toBeCloseTo(seconds, 6);
  });

  it('runs away from UTC, so that a date read in local time is caught (jest.config.js sets TZ)', () => {
    // asctime's form names no zone: read as local time, it is off by the zone's offset.
    expect(new Date(NOW).getTimezoneOffset()).not.toBe(0);
  });

  it.each([[undefined], ['soon'], ['-1'], ['1e3'], ['in 5s'], [''], ['Thu, 99 Foo 2026']])(
    'does not read %j',
    (header) => {
      expect(parseRetryAfter(header, NOW)).toBeUndefined();
    },
  );
});

describe('backoffDelayMs', () => {
  it('doubles from 500 ms per failed attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, 0.5))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('is capped at 8 s', () => {
    expect(backoffDelayMs(6, 0.5)).toBe(8000);
    expect(backoffDelayMs(20, 0.5)).toBe(8000);
  });

  it('moves each wait by at most 20% either way', () => {
    expect(backoffDelayMs(1, 0)).toBeCloseTo(400, 6);
    expect(backoffDelayMs(1, 0.999999)).toBeCloseTo(600, 3);
    expect(backoffDelayMs(6, 0)).toBeCloseTo(6400, 6);
    expect(backoffDelayMs(6, 0.999999)).toBeCloseTo(9600, 2);
  });
});

describe('isRetryableStatus', () => {
  it('retries exactly 429, 503 and 504', () => {
    const retried = [200, 301, 400, 401, 403, 404, 409, 412, 413, 422, 429, 500, 501, 502, 503, 504].filter(isRetryableStatus);
    expect(retried).toEqual([429, 503, 504]);
  });
});

describe('the retry decision (decideAfterAttempt) for an answer from Graph', () => {
  /** Graph's answer, retryable (503) unless said not to be (404), with its Retry-After; the context's defaults overridden. */
  interface Case extends Partial<RetryContext> {
    retryable?: boolean;
    retryAfter?: string;
  }
  const decisionFor = ({ retryable = true, retryAfter, ...context }: Case) =>
    decideAfterAttempt(
      { status: retryable ? 503 : 404, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter }, body: '' },
      { attempt: 1, maxRetries: 3, maxRetryAfterS: 30, nowMs: NOW, deadlineMs: NOW + 30_000, random: 0.5, ...context },
    );

  it('answers what retrying cannot change', () => {
    expect(decisionFor({ retryable: false, retryAfter: '1' })).toEqual({ kind: 'final' });
  });

  it("waits Graph's Retry-After, decimal seconds included", () => {
    expect(decisionFor({ retryAfter: '0.249' })).toEqual({ kind: 'retry', waitMs: 249 });
  });

  it('backs off exponentially without a readable Retry-After', () => {
    expect(decisionFor({ attempt: 2, retryAfter: 'soon' })).toEqual({ kind: 'retry', waitMs: backoffDelayMs(2, 0.5) });
  });

  it.each([
    ['the retries are used up', { attempt: 4, retryAfter: '1' }, 1],
    ['Retry-After is above GRAPH_MAX_RETRY_AFTER_S', { retryAfter: '86400' }, 86400],
    ['the wait would end past the deadline', { retryAfter: '5', deadlineMs: NOW + 4000 }, 5],
    ['the gateway is shutting down', { retryAfter: '1', stopping: true }, 1],
  ])('gives up when %s, saying when to come back', (_case, overrides, retryAfterS) => {
    expect(decisionFor(overrides)).toEqual({ kind: 'give-up', waitMs: retryAfterS * 1000, retryAfterS });
  });

  it('waits a Retry-After of exactly GRAPH_MAX_RETRY_AFTER_S, and gives up on one a millisecond above it', () => {
    // A deadline far enough that only GRAPH_MAX_RETRY_AFTER_S (30) decides.
    const deadlineMs = NOW + 60_000;
    expect(decisionFor({ retryAfter: '30', deadlineMs })).toEqual({ kind: 'retry', waitMs: 30_000 });
    expect(decisionFor({ retryAfter: '30.001', deadlineMs })).toEqual({ kind: 'give-up', waitMs: 30_001, retryAfterS: 30.001 });
  });

  it('says when to come back after a backoff too, to the millisecond', () => {
    const decision = decisionFor({ attempt: 4 });

    expect(decision).toEqual({ kind: 'give-up', waitMs: backoffDelayMs(4, 0.5), retryAfterS: Math.round(backoffDelayMs(4, 0.5)) / 1000 });
  });
});

describe('decideAfterAttempt', () => {
  const context: RetryContext = { attempt: 1, maxRetries: 3, maxRetryAfterS: 30, nowMs: NOW, deadlineMs: NOW + 60_000, random: 0.5 };
  const answer = (status: number, retryAfter?: string | string[]) => ({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter }, body: '' });

  it.each([
    [GatewayErrorCode.GATEWAY_TIMEOUT, 'retry'],
    [GatewayErrorCode.UPSTREAM_UNAVAILABLE, 'retry'],
    [GatewayErrorCode.BAD_GATEWAY, 'final'],
    [GatewayErrorCode.SHUTTING_DOWN, 'final'],
  ])('retries a call that got no usable answer only for a timeout or a lost connection (%s: %s)', (code, kind) => {
    expect(decideAfterAttempt(new GatewayError(code, null), context).kind).toBe(kind);
  });

  it('retries 429, 503 and 504 answers after their Retry-After, the first one when several came', () => {
    expect(decideAfterAttempt(answer(503, ['2', '9']), context)).toEqual({ kind: 'retry', waitMs: 2000 });
    expect(decideAfterAttempt(answer(504), context)).toEqual({ kind: 'retry', waitMs: backoffDelayMs(1, 0.5) });
    expect(decideAfterAttempt(answer(404, '2'), context)).toEqual({ kind: 'final' });
  });

  it("pauses the mailbox for a 429 only, as long as its wait but GRAPH_MAX_RETRY_AFTER_S at most", () => {
    expect(decideAfterAttempt(answer(429, '2'), context)).toEqual({ kind: 'retry', waitMs: 2000, pauseMs: 2000 });
    expect(decideAfterAttempt(answer(429), context)).toEqual({ kind: 'retry', waitMs: backoffDelayMs(1, 0.5), pauseMs: backoffDelayMs(1, 0.5) });
    expect(decideAfterAttempt(answer(429, '86400'), context)).toEqual({ kind: 'give-up', waitMs: 86_400_000, retryAfterS: 86400, pauseMs: 30_000 });
    expect(decideAfterAttempt(answer(429, '2'), { ...context, attempt: 4 })).toEqual({ kind: 'give-up', waitMs: 2000, retryAfterS: 2, pauseMs: 2000 });
    expect(decideAfterAttempt(answer(503, '2'), context)).not.toHaveProperty('pauseMs');
  });
});
