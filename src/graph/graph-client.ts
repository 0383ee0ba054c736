import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Method } from 'got';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError, failureCause, type UpstreamErrorInfo } from '../errors/gateway-error.js';
import { GRAPH_MAX_PHOTO_BYTES } from '../limits/graph-photo-limits.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { contactPhotoPath, contactPhotoValuePath } from './contact-photo-path.js';
import { CONTACT_PHOTO_ROUTE, CONTACT_PHOTO_VALUE_ROUTE } from './contact-photo-route.js';
import type { GraphCallObserver } from '../metrics/metrics.js';
import type { MailboxLimiter } from './mailbox-limiter.js';
import { MailboxScheduler, waitedPastDeadline, type MailboxSchedulerOptions } from './mailbox-scheduler.js';
import { errorFromResponse, errorFromTransportFailure, errorFromUnusableBody, transportFailureKind } from './error-mapping.js';
import { BATCH_PATH, GRAPH_BATCH_LIMIT, batchRequestBody, parseBatchAnswer } from './graph-batch.js';
import { GraphTransport } from './graph-transport.js';
import { parsePhotoValue, type PhotoValue } from './photo-value.js';
import { parseProfilePhoto } from './profile-photo.js';
import { decideRetry, isRetryableStatus } from './retry-policy.js';
import type { GraphProfilePhoto, GraphResponse, ProfilePhotoPatch } from './types.js';

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
  /** An uploaded photo's format, sizes before and after, and processing time (never its content). */
  photo?: { inputFormat: string; bytesIn: number; bytesOut: number; processingSeconds: number };
}

/** Graph's final answer to a call; for a retryable status, the wait it asked for (or ours). */
type FinalResponse = GraphResponse & { retryAfter?: number };

interface GraphRequest {
  method: Method;
  /** The `invitationId`: whose mailbox the call uses, for the per-mailbox limit. */
  mailbox: string;
  path: string;
  /** The path's template, for traces (never the ids). */
  route: string;
  body?: { data: string | Buffer; contentType: string };
  /** The `Accept` header. */
  accept: string;
  /** Largest answer read. */
  maxResponseBytes: number;
  /** Keep a 2xx answer's body as bytes. */
  binary: boolean;
  /** Mailbox slots the request holds while in flight: 1, or more for a batch. */
  slots?: number;
  /**
   * Told of each answer that will not be retried, while the request still holds its mailbox
   * slots (a batch reads its items here, to pause the mailbox for a throttled one before the
   * slots are given back).
   */
  settle?: (response: GraphResponse) => void;
}

/** How far a call has got: its deadline, and the attempts made (a batch's rounds share them). */
interface CallProgress {
  deadline: number;
  attempts: number;
}

/** One read of a contact's photo: its metadata (`GET .../photo`) or its picture (`GET .../photo/$value`). */
export interface PhotoRead {
  invitationId: string;
  contactId: string;
  part: 'metadata' | 'value';
}

/**
 * What a read answers: the photo's metadata or picture, `null` when the contact has none (404),
 * or the error it failed with (a `GatewayError`, or any other `Error`: a bug, masked when answered).
 */
export type PhotoReadResult = GraphProfilePhoto | PhotoValue | null | Error;

const ODATA_TYPE = '#microsoft.graph.profilePhoto';

/** Largest JSON answer read; a photo's metadata is under 1 KiB, Graph's errors a few KiB. */
export const MAX_JSON_RESPONSE_BYTES = 1024 * 1024;

/** Largest photo read from `photo/$value`: Graph's 4 MB, and some slack. */
export const MAX_PHOTO_RESPONSE_BYTES = GRAPH_MAX_PHOTO_BYTES + 64 * 1024;

/** What the JSON calls on the photo's metadata share. */
const JSON_CALL = { route: CONTACT_PHOTO_ROUTE, accept: 'application/json', maxResponseBytes: MAX_JSON_RESPONSE_BYTES, binary: false } as const;

/** Largest base64 text of one picture in a batch answer, with room for the item's JSON around it. */
const MAX_BATCHED_PHOTO_BYTES = Math.ceil(MAX_PHOTO_RESPONSE_BYTES / 3) * 4 + 16 * 1024;

const tracer = trace.getTracer(GATEWAY_NAME, GATEWAY_VERSION);

/**
 * The one way to Microsoft Graph: its policy (retries, the per-mailbox limit, tracing) over a
 * `GraphTransport` (the connection pool and one exchange at a time):
 * the caller's token is forwarded to `baseUrl` only, redirects are never followed, and each
 * failure becomes a `GatewayError` with a stable code.
 */
export class GraphClient {
  readonly #options: GraphClientOptions;
  readonly #transport: GraphTransport;
  readonly #random: () => number;
  readonly #scheduler: MailboxLimiter;
  readonly #host: string;
  readonly #batchMax: number;

  constructor(options: GraphClientOptions) {
    this.#options = options;
    this.#batchMax = Math.min(GRAPH_BATCH_LIMIT, Math.max(1, options.batchMax ?? GRAPH_BATCH_LIMIT));
    this.#random = options.random ?? Math.random;
    this.#scheduler = options.limiter ?? new MailboxScheduler(options.mailbox);
    this.#transport = new GraphTransport(options.userAgent);
    this.#host = new URL(options.baseUrl).host;
    if (options.signal) {
      // Calls waiting out a retry's backoff listen to it too, any number at once.
      setMaxListeners(0, options.signal);
      options.signal.addEventListener(
        'abort',
        () => {
          this.#scheduler.rejectAll(shuttingDown);
          this.#transport.endAll(new Error('The call was ended at shutdown.'));
        },
        { once: true },
      );
    }
  }

  /**
   * `GET .../contacts/{contactId}/photo`. Answers `null` when Graph answers 404 (no photo, or
   * no such contact).
   */
  async getContactPhoto(invitationId: string, contactId: string, call: GraphCallContext): Promise<GraphProfilePhoto | null> {
    const result = photoReadResult('metadata', await this.send(readRequest({ invitationId, contactId, part: 'metadata' }), call));
    if (result instanceof GatewayError) throw result;
    return result as GraphProfilePhoto | null;
  }

  /** `PATCH .../contacts/{contactId}/photo` with only the properties in `patch`. */
  async updateContactPhoto(
    invitationId: string,
    contactId: string,
    patch: ProfilePhotoPatch,
    call: GraphCallContext,
  ): Promise<GraphProfilePhoto> {
    const path = contactPhotoPath(invitationId, contactId);
    const body = { data: JSON.stringify({ '@odata.type': ODATA_TYPE, ...patch }), contentType: 'application/json' };
    return this.photoFromResponse(await this.send({ ...JSON_CALL, method: 'PATCH', mailbox: invitationId, path, body }, call));
  }

  /**
   * `PUT .../contacts/{contactId}/photo/$value` with a JPEG: replaces the contact's picture. The
   * body is a Buffer, so a retry sends the same bytes; the call follows the same retry, deadline
   * and mailbox rules as the PATCH (it is idempotent).
   */
  async putContactPhotoValue(invitationId: string, contactId: string, jpeg: Buffer, call: GraphCallContext): Promise<void> {
    const path = contactPhotoValuePath(invitationId, contactId);
    successful(
      await this.send(
        { ...JSON_CALL, route: CONTACT_PHOTO_VALUE_ROUTE, method: 'PUT', mailbox: invitationId, path, body: { data: jpeg, contentType: 'image/jpeg' } },
        call,
      ),
    );
  }

  /**
   * `GET .../contacts/{contactId}/photo/$value`: the picture's bytes. Answers `null` when Graph
   * answers 404 (no photo, or no such contact).
   */
  async getContactPhotoValue(invitationId: string, contactId: string, call: GraphCallContext): Promise<PhotoValue | null> {
    const result = photoReadResult('value', await this.send(readRequest({ invitationId, contactId, part: 'value' }), call));
    if (result instanceof GatewayError) throw result;
    return result as PhotoValue | null;
  }

  /**
   * Many reads at once, answered in their order, each with its photo, `null`, or its own error
   * (never a rejection for one read's failure). Reads of one mailbox go out together in
   * `POST /$batch` requests of at most `batchMax` reads; a lone read (or `batchMax` 1) is a
   * plain GET. A batch is a Graph call like any other: the caller's token on the batch only,
   * its own retries when it is answered 429/503/504 or not at all, and the mailbox's slots held
   * while it is in flight, as many as Outlook runs of it at once. Items answered 429/503/504
   * inside its 200 are sent again, only they, in a later batch after the longest `Retry-After`
   * among them, within the deadline.
   */
  async readPhotos(reads: readonly PhotoRead[], call: GraphCallContext): Promise<PhotoReadResult[]> {
    const results: PhotoReadResult[] = new Array<PhotoReadResult>(reads.length);
    const requests: GraphRequest[] = new Array<GraphRequest>(reads.length);
    const byMailbox = new Map<string, number[]>();
    reads.forEach((read, index) => {
      try {
        requests[index] = readRequest(read);
      } catch (error) {
        // An id that cannot go into a path fails its own read, not the batch it would have joined.
        results[index] = asError(error);
        return;
      }
      const indexes = byMailbox.get(read.invitationId);
      if (indexes) indexes.push(index);
      else byMailbox.set(read.invitationId, [index]);
    });
    const rounds: Promise<void>[] = [];
    for (const [mailbox, indexes] of byMailbox) {
      for (let start = 0; start < indexes.length; start += this.#batchMax) {
        const chunk = indexes.slice(start, start + this.#batchMax);
        rounds.push(
          this.sendTogether(mailbox, chunk.map((index) => requests[index]!), call).then((answers) => {
            chunk.forEach((index, position) => {
              const answer = answers[position]!;
              results[index] = answer instanceof Error ? answer : photoReadResult(reads[index]!.part, answer);
            });
          }),
        );
      }
    }
    await Promise.all(rounds);
    return results;
  }

  /** Requests to one mailbox: a plain call for one, a batch for more. */
  private async sendTogether(mailbox: string, requests: readonly GraphRequest[], call: GraphCallContext): Promise<(FinalResponse | Error)[]> {
    if (requests.length > 1) return this.sendBatch(mailbox, requests, call);
    try {
      return [await this.send(requests[0]!, call)];
    } catch (error) {
      return [asError(error)];
    }
  }

  /**
   * Sends requests to one mailbox as `POST /$batch`, as often as their items ask (see
   * `readPhotos`), and answers each request's final answer, or the error it failed with.
   */
  private async sendBatch(mailbox: string, requests: readonly GraphRequest[], call: GraphCallContext): Promise<(FinalResponse | Error)[]> {
    const { maxRetries, maxRetryAfterS, deadlineMs, signal, observer } = this.#options;
    const progress: CallProgress = { deadline: Date.now() + deadlineMs, attempts: 0 };
    const results = new Array<FinalResponse | Error>(requests.length);
    let pending = requests.map((_request, index) => index);
    let maxResponseBytes = 0;
    for (const request of requests) maxResponseBytes += request.binary ? MAX_BATCHED_PHOTO_BYTES : request.maxResponseBytes;
    while (pending.length > 0) {
      const items = pending.map((index) => ({ id: String(index + 1), method: requests[index]!.method, path: requests[index]!.path, binary: requests[index]!.binary }));
      // Read while the batch holds its slots: a throttled item pauses the mailbox before they are given back.
      let retries: { index: number; waitMs: number }[] = [];
      let unusable: GatewayError | undefined;
      const settle = (response: GraphResponse): void => {
        call.stats.batches = (call.stats.batches ?? 0) + 1;
        call.stats.batchItems = (call.stats.batchItems ?? 0) + items.length;
        observer?.batch(items.length, response.status);
        if (response.status < 200 || response.status > 299) return;
        const answers = parseBatchAnswer(response, items);
        if (answers instanceof GatewayError) {
          unusable = answers;
          return;
        }
        let pauseMs = 0;
        const nowMs = Date.now();
        retries = [];
        items.forEach((item, position) => {
          const index = pending[position]!;
          const answer = answers.get(item.id);
          if (answer === undefined) {
            results[index] = errorFromUnusableBody(response, 'a batch answer that has no response for one of its requests');
            return;
          }
          observer?.batchItem(answer.status);
          const decision = decideRetry({
            retryable: isRetryableStatus(answer.status),
            retryAfter: headerValue(answer, 'retry-after'),
            attempt: progress.attempts,
            maxRetries,
            maxRetryAfterS,
            nowMs,
            deadlineMs: progress.deadline,
            random: this.#random(),
            stopping: signal?.aborted === true,
          });
          if (decision.kind !== 'final' && answer.status === 429) pauseMs = Math.max(pauseMs, Math.min(decision.waitMs, maxRetryAfterS * 1000));
          if (decision.kind === 'retry') {
            retries.push({ index, waitMs: decision.waitMs });
            observer?.batchItemRetried(answer.status);
          }
          results[index] = decision.kind === 'give-up' ? { ...answer, retryAfter: decision.retryAfterS } : answer;
        });
        if (pauseMs > 0) this.#scheduler.pause(mailbox, pauseMs);
      };
      const envelope: GraphRequest = {
        method: 'POST',
        mailbox,
        path: BATCH_PATH,
        route: BATCH_PATH,
        body: { data: batchRequestBody(items), contentType: 'application/json' },
        accept: 'application/json',
        maxResponseBytes,
        binary: false,
        slots: Math.min(items.length, this.#options.mailbox.concurrency),
        settle,
      };
      let answer: FinalResponse;
      try {
        answer = await this.send(envelope, call, progress);
      } catch (error) {
        // No answer came for the batch: each of its requests failed as one call would have.
        const failure = asError(error);
        for (const index of pending) results[index] = failure;
        break;
      }
      if (answer.status < 200 || answer.status > 299 || unusable) {
        // Graph refused or garbled the batch as a whole: every request in it gets that answer.
        const failure = unusable ?? errorFromResponse(answer, answer.retryAfter);
        for (const index of pending) results[index] = failure;
        break;
      }
      if (retries.length === 0) break;
      try {
        await sleep(Math.max(...retries.map((retry) => retry.waitMs)), undefined, signal ? { signal } : undefined);
      } catch {
        for (const { index } of retries) results[index] = shuttingDown();
        break;
      }
      pending = retries.map((retry) => retry.index);
    }
    return results;
  }

  /** Reads sent together in one `POST /$batch` at most (`GRAPH_BATCH_MAX`). */
  get batchMax(): number {
    return this.#batchMax;
  }

  /** Mailboxes with calls in flight, waiting or paused, and the calls waiting over all of them. */
  get mailboxUsage(): { mailboxes: number; waiting: number } {
    return this.#scheduler.size;
  }

  /** Closes the pooled connections to Graph. */
  close(): void {
    this.#transport.close();
  }

  private photoFromResponse(response: FinalResponse): GraphProfilePhoto {
    const photo = parseProfilePhoto(successful(response));
    if (photo instanceof GatewayError) throw photo;
    return photo;
  }

  /**
   * Sends one request with Graph's retry rules and answers Graph's final response, whatever its
   * status (a retryable status comes back when retries are spent or its wait is too long, with
   * the wait in `retryAfter`). Throws only when no usable answer came.
   */
  private send(request: GraphRequest, call: GraphCallContext, progress?: CallProgress): Promise<FinalResponse> {
    // Without tracing not even the API's no-op tracer is called: it would wrap every call in
    // closures and a context switch for nothing.
    if (!this.#options.traced) return this.sendWithRetries(request, call, progress);
    // One span per Graph call (its attempts are the HTTP client spans below it, when the HTTP
    // instrumentation runs).
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

  private async sendWithRetries(
    request: GraphRequest,
    call: GraphCallContext,
    progress: CallProgress = { deadline: Date.now() + this.#options.deadlineMs, attempts: 0 },
  ): Promise<FinalResponse> {
    const { maxRetries, maxRetryAfterS, timeoutMs, signal, observer } = this.#options;
    const { deadline } = progress;
    const url = this.#options.baseUrl + request.path;
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

    for (;;) {
      const attempt = ++progress.attempts;
      if (signal?.aborted) throw shuttingDown();
      // Before a slot is taken: a token that cannot be had costs the mailbox nothing.
      if (typeof call.graphAuthorization !== 'string') headers['authorization'] = await call.graphAuthorization();
      let lease = this.#scheduler.acquire(request.mailbox, deadline, { slots: request.slots ?? 1, retry: attempt > 1, caller: call.caller });
      if (lease instanceof Promise) {
        const waitStarted = performance.now();
        lease = await lease;
        observer?.mailboxWait((performance.now() - waitStarted) / 1000);
        // Shutdown may have begun while the slot was being handed over: its listener ended the
        // exchanges in flight then, and this one would not be among them.
        if (signal?.aborted) {
          lease.release();
          throw shuttingDown();
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        lease.release();
        throw waitedPastDeadline();
      }
      const attemptTimeout = Math.min(timeoutMs, remaining);
      call.stats.attempts++;
      let outcome: GraphResponse | GatewayError;
      const attemptStarted = performance.now();
      try {
        outcome = await this.#transport.exchange({
          method: request.method,
          url,
          headers,
          ...(request.body !== undefined && { body: request.body.data }),
          maxResponseBytes: request.maxResponseBytes,
          binary: request.binary,
          timeoutMs: Math.max(1, attemptTimeout),
        });
      } catch (error) {
        outcome = this.errorFromFailure(error, attemptTimeout < timeoutMs);
      }
      const status = outcome instanceof GatewayError ? answeredStatus(outcome) : outcome.status;
      if (status !== null) call.stats.upstreamStatus = status;
      observer?.attempt(request.method, status, (performance.now() - attemptStarted) / 1000);

      const decision = decideRetry({
        retryable: outcome instanceof GatewayError ? isRetryableFailure(outcome) : isRetryableStatus(outcome.status),
        retryAfter: outcome instanceof GatewayError ? undefined : headerValue(outcome, 'retry-after'),
        attempt,
        maxRetries,
        maxRetryAfterS,
        nowMs: Date.now(),
        deadlineMs: deadline,
        random: this.#random(),
        stopping: signal?.aborted === true,
      });
      // A 429 is about the mailbox, not this call: the calls waiting for it hold back as well, but
      // for GRAPH_MAX_RETRY_AFTER_S at most: one caller's 429 with Retry-After: 86400 must not stop
      // the mailbox for every caller (and every replica) for a day.
      if (decision.kind !== 'final' && !(outcome instanceof GatewayError) && outcome.status === 429) {
        this.#scheduler.pause(request.mailbox, Math.min(decision.waitMs, maxRetryAfterS * 1000));
      }
      if (decision.kind !== 'retry' && request.settle && !(outcome instanceof GatewayError)) request.settle(outcome);
      lease.release();
      if (decision.kind === 'final') {
        if (outcome instanceof GatewayError) throw outcome;
        return outcome;
      }
      if (decision.kind === 'give-up') {
        if (outcome instanceof GatewayError) throw outcome;
        return { ...outcome, retryAfter: decision.retryAfterS };
      }
      observer?.retry(request.method);
      try {
        await sleep(decision.waitMs, undefined, signal ? { signal } : undefined);
      } catch {
        throw shuttingDown();
      }
    }
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

/** Graph's answer when it is a success; its error (with the wait it asked for) otherwise. */
function successful(response: FinalResponse): FinalResponse {
  if (response.status < 200 || response.status > 299) throw errorFromResponse(response, response.retryAfter);
  return response;
}

/** The request for one read. */
function readRequest(read: PhotoRead): GraphRequest {
  if (read.part === 'metadata') return { ...JSON_CALL, method: 'GET', mailbox: read.invitationId, path: contactPhotoPath(read.invitationId, read.contactId) };
  return {
    method: 'GET',
    mailbox: read.invitationId,
    path: contactPhotoValuePath(read.invitationId, read.contactId),
    route: CONTACT_PHOTO_VALUE_ROUTE,
    accept: 'image/*',
    maxResponseBytes: MAX_PHOTO_RESPONSE_BYTES,
    binary: true,
  };
}

/** A read's final answer as its result: `null` for Graph's 404, the photo or picture, or the error Graph's answer means. */
function photoReadResult(part: PhotoRead['part'], response: FinalResponse): PhotoReadResult {
  if (response.status === 404) return null;
  if (response.status < 200 || response.status > 299) return errorFromResponse(response, response.retryAfter);
  return part === 'metadata' ? parseProfilePhoto(response) : parsePhotoValue(response);
}

/** Anything thrown, as the error a read answers with. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Timeouts and connection failures are retried; a malformed answer is not. */
function isRetryableFailure(error: GatewayError): boolean {
  return error.code === GatewayErrorCode.GATEWAY_TIMEOUT || error.code === GatewayErrorCode.UPSTREAM_UNAVAILABLE;
}

/** The status Graph answered with, for an error made from an answer (one cut off for its size, say). */
function answeredStatus(error: GatewayError): number | null {
  const upstream = error.extensions['upstream'] as UpstreamErrorInfo | undefined;
  return upstream?.status ?? null;
}

function headerValue(response: GraphResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function shuttingDown(): GatewayError {
  return new GatewayError(GatewayErrorCode.SHUTTING_DOWN, null);
}
