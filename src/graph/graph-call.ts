import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError, failureCause, type UpstreamErrorInfo } from '../errors/gateway-error.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import type { GraphCallContext, GraphClientOptions } from './client-options.js';
import { errorFromTransportFailure, transportFailureKind } from './error-mapping.js';
import type { CallProgress, FinalResponse, GraphRequest } from './graph-request.js';
import type { Exchange, GraphTransport } from './graph-transport.js';
import { overBudget, type BudgetCost, type BudgetName, type MailboxBudget } from './mailbox-budget.js';
import { waitedPastDeadline, type MailboxLimiter } from './mailbox-limiter.js';
import { decideAfterAttempt, type RetryDecision } from './retry-policy.js';
import type { GraphResponse } from './types.js';

const tracer = trace.getTracer(GATEWAY_NAME, GATEWAY_VERSION);

/**
 * A Graph call: one request sent with Graph's retry rules (`retry-policy.ts`), each attempt
 * counted against its mailbox's budgets, holding slots on its mailbox and bounded by the call's
 * deadline, in a span of its own when traced. Every request of `GraphClient` goes through `send`, a batch's envelope included.
 */
export class GraphCaller {
  readonly #options: GraphClientOptions;
  readonly #transport: GraphTransport;
  readonly #scheduler: MailboxLimiter;
  readonly #budgets: MailboxBudget | undefined;
  readonly #random: () => number;
  readonly #host: string;

  constructor(options: GraphClientOptions, transport: GraphTransport, scheduler: MailboxLimiter, budgets?: MailboxBudget) {
    this.#options = options;
    this.#transport = transport;
    this.#scheduler = scheduler;
    this.#budgets = budgets;
    this.#random = options.random ?? Math.random;
    this.#host = new URL(options.baseUrl).host;
  }

  /** A new call's progress: no attempt made yet, its whole deadline ahead. */
  start(): CallProgress {
    return { deadline: Date.now() + this.#options.deadlineMs, attempts: 0 };
  }

  /**
   * Sends one request with Graph's retry rules and answers Graph's final response, whatever its
   * status (a retryable status comes back when retries are spent or its wait is too long, with
   * the wait in `retryAfter`). Throws only when no usable answer came. `progress` is shared by
   * the rounds of one batch.
   */
  send(request: GraphRequest, call: GraphCallContext, progress: CallProgress = this.start()): Promise<FinalResponse> {
    // Without tracing not even the API's no-op tracer is called: it would wrap every call in
    // closures and a context switch for nothing.
    if (!this.#options.traced) return this.sendWithRetries(request, call, progress);
    return this.sendTraced(request, call, progress);
  }

  /**
   * What to do after the `attempt`th answer of a call due by `deadline`, a single call's or a
   * batch item's: `decideAfterAttempt` with this client's limits.
   */
  decide(outcome: GraphResponse | GatewayError, attempt: number, deadline: number, nowMs: number): RetryDecision {
    const { maxRetries, maxRetryAfterS, signal } = this.#options;
    return decideAfterAttempt(outcome, {
      attempt,
      maxRetries,
      maxRetryAfterS,
      nowMs,
      deadlineMs: deadline,
      random: this.#random(),
      stopping: signal?.aborted === true,
    });
  }

  /** Waits `ms` before an attempt; rejects with SHUTTING_DOWN when shutdown ends the wait. */
  async waitToRetry(ms: number): Promise<void> {
    const { signal } = this.#options;
    try {
      await sleep(ms, undefined, signal ? { signal } : undefined);
    } catch {
      throw shuttingDown();
    }
  }

  /** One span per Graph call (its attempts are the HTTP client spans below it, when the HTTP instrumentation runs). */
  private sendTraced(request: GraphRequest, call: GraphCallContext, progress: CallProgress): Promise<FinalResponse> {
    const attributes = {
      'http.request.method': request.method,
      'url.template': request.route,
      'server.address': this.#host,
      'graph.client_request_id': call.clientRequestId,
      ...(call.user && { 'enduser.id': call.user.oid, 'enduser.tenant_id': call.user.tid }),
    };
    return tracer.startActiveSpan(`Graph ${request.method} ${request.route}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
      const attemptsBefore = call.stats.attempts;
      try {
        const response = await this.sendWithRetries(request, call, progress);
        span.setAttribute('http.response.status_code', response.status);
        if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `Graph answered ${response.status}` });
        return response;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof GatewayError ? error.code : 'error' });
        if (call.stats.upstreamStatus !== null) span.setAttribute('http.response.status_code', call.stats.upstreamStatus);
        throw error;
      } finally {
        span.setAttribute('graph.attempts', call.stats.attempts - attemptsBefore);
        span.end();
      }
    });
  }

  /**
   * The retry loop: per attempt the token, the mailbox's slots, one exchange, the decision.
   * Everything done while the slots are held sits in one `try` whose `finally` gives them back:
   * a throw from the observer or from settling must not keep a slot (for ever in this process,
   * or until its lease expires in Redis).
   */
  private async sendWithRetries(request: GraphRequest, call: GraphCallContext, progress: CallProgress): Promise<FinalResponse> {
    const headers = this.headersFor(request, call);
    const url = this.#options.baseUrl + request.path;
    for (;;) {
      const attempt = ++progress.attempts;
      if (this.#options.signal?.aborted) throw shuttingDown();
      // Before a slot is taken: a token that cannot be had costs the mailbox nothing.
      if (typeof call.graphAuthorization !== 'string') headers['authorization'] = await call.graphAuthorization();
      // Each attempt counts (Outlook counts every request it receives), before it waits for a slot.
      let verdict = this.#budgets?.charge(request.mailbox, costOf(request));
      if (verdict instanceof Promise) verdict = await verdict;
      if (verdict?.allowed === false) throw this.refused(verdict.budget, verdict.retryAfterS);
      let lease = this.#scheduler.acquire(request.mailbox, progress.deadline, { slots: request.slots ?? 1, retry: attempt > 1, caller: call.caller });
      let waitStarted = -1;
      if (lease instanceof Promise) {
        waitStarted = performance.now();
        lease = await lease;
      }
      let outcome: GraphResponse | GatewayError;
      let decision: RetryDecision;
      try {
        if (waitStarted >= 0) this.afterSlotWait(waitStarted);
        const attemptTimeout = this.attemptTimeout(progress.deadline);
        call.stats.attempts++;
        const attemptStarted = performance.now();
        try {
          outcome = await this.#transport.exchange(exchangeOf(request, url, headers, attemptTimeout));
        } catch (error) {
          outcome = this.errorFromFailure(error, attemptTimeout < this.#options.timeoutMs);
        }
        this.recordAttempt(request.method, outcome, call, attemptStarted);
        decision = this.decide(outcome, attempt, progress.deadline, Date.now());
        if (decision.kind !== 'final' && decision.pauseMs !== undefined) this.#scheduler.pause(request.mailbox, decision.pauseMs);
        if (decision.kind !== 'retry' && request.settle && !(outcome instanceof GatewayError)) request.settle(outcome);
      } finally {
        lease.release();
      }
      if (decision.kind !== 'retry') return finalAnswer(outcome, decision);
      this.#options.observer?.retry(request.method);
      await this.waitToRetry(decision.waitMs);
    }
  }

  /** An attempt that would pass its mailbox's `budget`: counted, and TOO_MANY_REQUESTS (nothing sent). */
  private refused(budget: BudgetName, retryAfterS: number): GatewayError {
    this.#options.observer?.budgetRefused(budget);
    return overBudget({ budget, retryAfterS });
  }

  /** The headers of every attempt of a call (the token is set per attempt when it has a source). */
  private headersFor(request: GraphRequest, call: GraphCallContext): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: typeof call.graphAuthorization === 'string' ? call.graphAuthorization : '',
      'client-request-id': call.clientRequestId,
      accept: request.accept,
    };
    if (request.body !== undefined) {
      headers['content-type'] = request.body.contentType;
      // Given, got does not measure the body itself (it encodes the whole string again to count bytes).
      headers['content-length'] = String(Buffer.byteLength(request.body.data));
    }
    // W3C trace context for Graph.
    if (this.#options.traced) propagation.inject(context.active(), headers);
    return headers;
  }

  /** A call that had to wait for its slots reports the wait, and goes no further when shutdown began meanwhile. */
  private afterSlotWait(waitStarted: number): void {
    this.#options.observer?.mailboxWait((performance.now() - waitStarted) / 1000);
    // Shutdown may have begun while the slot was being handed over: its listener ended the
    // exchanges in flight then, and this one would not be among them.
    if (this.#options.signal?.aborted) throw shuttingDown();
  }

  /** The time the next attempt may take: its own timeout, or what is left of the call's deadline. */
  private attemptTimeout(deadline: number): number {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw waitedPastDeadline();
    return Math.min(this.#options.timeoutMs, remaining);
  }

  /** Notes an attempt's answer for the operation's log line and the observer. */
  private recordAttempt(method: string, outcome: GraphResponse | GatewayError, call: GraphCallContext, started: number): void {
    const status = outcome instanceof GatewayError ? answeredStatus(outcome) : outcome.status;
    if (status !== null) call.stats.upstreamStatus = status;
    this.#options.observer?.attempt(method, status, (performance.now() - started) / 1000);
  }

  private errorFromFailure(error: unknown, cutByDeadline: boolean): GatewayError {
    if (this.#options.signal?.aborted) return shuttingDown();
    const cause = failureCause(error);
    if (cutByDeadline && transportFailureKind(cause) === 'timeout') {
      return new GatewayError(GatewayErrorCode.GATEWAY_TIMEOUT, 'Microsoft Graph did not answer within the deadline.', { cause });
    }
    return errorFromTransportFailure(cause);
  }
}

/** The error of a call ended by the gateway's shutdown. */
export function shuttingDown(): GatewayError {
  return new GatewayError(GatewayErrorCode.SHUTTING_DOWN, null);
}

/** What one attempt of `request` costs its mailbox's budgets. */
function costOf(request: GraphRequest): BudgetCost {
  return { requests: request.outlookRequests ?? 1, uploadBytes: request.uploadBytes ?? 0 };
}

/** One attempt's exchange, for the transport. */
function exchangeOf(request: GraphRequest, url: string, headers: Record<string, string>, timeoutMs: number): Exchange {
  return {
    method: request.method,
    url,
    headers,
    ...(request.body !== undefined && { body: request.body.data }),
    maxResponseBytes: request.maxResponseBytes,
    binary: request.binary,
    timeoutMs: Math.max(1, timeoutMs),
  };
}

/** The call's answer once no attempt follows: Graph's, with when to come back if it was given up on; a failure is thrown. */
function finalAnswer(outcome: GraphResponse | GatewayError, decision: RetryDecision): FinalResponse {
  if (outcome instanceof GatewayError) throw outcome;
  return decision.kind === 'give-up' ? { ...outcome, retryAfter: decision.retryAfterS } : outcome;
}

/** The status Graph answered with, for an error made from an answer (one cut off for its size, say). */
function answeredStatus(error: GatewayError): number | null {
  const upstream = error.extensions['upstream'] as UpstreamErrorInfo | undefined;
  return upstream?.status ?? null;
}
