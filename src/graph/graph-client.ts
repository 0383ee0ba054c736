import http from 'node:http';
import https from 'node:https';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import got, { type Got, type Method, type RequestFunction } from 'got';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError, failureCause, type UpstreamErrorInfo } from '../errors/gateway-error.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { contactPhotoPath } from './contact-photo-path.js';
import { CONTACT_PHOTO_ROUTE } from './contact-photo-route.js';
import type { GraphCallObserver } from '../metrics/metrics.js';
import { MailboxScheduler, waitedPastDeadline, type MailboxSchedulerOptions } from './mailbox-scheduler.js';
import {
  errorFromOversizedBody,
  errorFromResponse,
  errorFromTransportFailure,
  transportFailureKind,
} from './error-mapping.js';
import { parseProfilePhoto } from './profile-photo.js';
import { backoffDelayMs, isRetryableStatus, parseRetryAfter } from './retry-policy.js';
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
  /** Ends every call in flight at once (the gateway's shutdown deadline). */
  signal?: AbortSignal;
  /** Told of every attempt, retry and mailbox wait (the gateway's metrics). */
  observer?: GraphCallObserver;
  /** Make a span per call and send trace context (when an OpenTelemetry SDK runs). */
  traced?: boolean;
  /** Source of jitter, `Math.random` unless a test fixes it. */
  random?: () => number;
}

/** What the resolvers know of the caller, and where the client reports what it did. */
export interface GraphCallContext {
  /** The caller's `Authorization` header, forwarded unchanged. */
  authorization: string;
  /** Sent as `client-request-id` on every attempt. */
  clientRequestId: string;
  stats: GraphCallStats;
}

/** Counters for the operation's log line, summed over its Graph calls. */
export interface GraphCallStats {
  attempts: number;
  /** The status of Graph's last answer, `null` when none came. */
  upstreamStatus: number | null;
}

/** Graph's final answer to a call; for a retryable status, the wait it asked for (or ours). */
type FinalResponse = GraphResponse & { retryAfter?: number };

interface GraphRequest {
  method: Method;
  /** The `invitationId`: whose mailbox the call uses, for the per-mailbox limit. */
  mailbox: string;
  path: string;
  body?: string;
}

const ODATA_TYPE = '#microsoft.graph.profilePhoto';

const tracer = trace.getTracer(GATEWAY_NAME, GATEWAY_VERSION);

/** Largest Graph answer read; a photo's metadata is under 1 KiB, Graph's errors a few KiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * The one way to Microsoft Graph. It owns the HTTP connection pool and the retry policy:
 * the caller's token is forwarded to `baseUrl` only, redirects are never followed, and each
 * failure becomes a `GatewayError` with a stable code.
 */
export class GraphClient {
  readonly #options: GraphClientOptions;
  readonly #got: Got;
  readonly #agents: { http: http.Agent; https: https.Agent };
  readonly #random: () => number;
  readonly #scheduler: MailboxScheduler;
  readonly #host: string;
  /** How to end each exchange in flight, for the shutdown signal (one listener on it, not one per call). */
  readonly #exchanges = new Set<(reason: Error) => void>();

  constructor(options: GraphClientOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#scheduler = new MailboxScheduler(options.mailbox);
    this.#host = new URL(options.baseUrl).host;
    if (options.signal) {
      // Calls waiting out a retry's backoff listen to it too, any number at once.
      setMaxListeners(0, options.signal);
      options.signal.addEventListener(
        'abort',
        () => {
          this.#scheduler.rejectAll(shuttingDown);
          for (const end of this.#exchanges) end(new Error('The call was ended at shutdown.'));
        },
        { once: true },
      );
    }
    this.#agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({ keepAlive: true }),
    };
    // Everything that does not change per call is set once here, not merged on every request.
    this.#got = gotWithoutCacheOptions().extend({
      agent: this.#agents,
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      decompress: false,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
      request: nativeRequest,
    });
  }

  /**
   * `GET .../contacts/{contactId}/photo`. Answers `null` when Graph answers 404 (no photo, or
   * no such contact).
   */
  async getContactPhoto(invitationId: string, contactId: string, call: GraphCallContext): Promise<GraphProfilePhoto | null> {
    const path = contactPhotoPath(invitationId, contactId);
    const response = await this.send({ method: 'GET', mailbox: invitationId, path }, call);
    if (response.status === 404) return null;
    return this.photoFromResponse(response);
  }

  /** `PATCH .../contacts/{contactId}/photo` with only the properties in `patch`. */
  async updateContactPhoto(
    invitationId: string,
    contactId: string,
    patch: ProfilePhotoPatch,
    call: GraphCallContext,
  ): Promise<GraphProfilePhoto> {
    const path = contactPhotoPath(invitationId, contactId);
    const body = JSON.stringify({ '@odata.type': ODATA_TYPE, ...patch });
    return this.photoFromResponse(await this.send({ method: 'PATCH', mailbox: invitationId, path, body }, call));
  }

  /** Mailboxes with calls in flight, waiting or paused, and the calls waiting over all of them. */
  get mailboxUsage(): { mailboxes: number; waiting: number } {
    return this.#scheduler.size;
  }

  /** Closes the pooled connections to Graph. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  private photoFromResponse(response: FinalResponse): GraphProfilePhoto {
    if (response.status < 200 || response.status > 299) throw errorFromResponse(response, response.retryAfter);
    const photo = parseProfilePhoto(response);
    if (photo instanceof GatewayError) throw photo;
    return photo;
  }

  /**
   * Sends one request with Graph's retry rules and answers Graph's final response, whatever its
   * status (a retryable status comes back when retries are spent or its wait is too long, with
   * the wait in `retryAfter`). Throws only when no usable answer came.
   */
  private send(request: GraphRequest, call: GraphCallContext): Promise<FinalResponse> {
    // Without tracing not even the API's no-op tracer is called: it would wrap every call in
    // closures and a context switch for nothing.
    if (!this.#options.traced) return this.sendWithRetries(request, call);
    // One span per Graph call (its attempts are the HTTP client spans below it, when the HTTP
    // instrumentation runs).
    const attributes = {
      'http.request.method': request.method,
      'url.template': CONTACT_PHOTO_ROUTE,
      'server.address': this.#host,
      'graph.client_request_id': call.clientRequestId,
    };
    return tracer.startActiveSpan(`Graph ${request.method} ${CONTACT_PHOTO_ROUTE}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
      const attemptsBefore = call.stats.attempts;
      try {
        const response = await this.sendWithRetries(request, call);
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

  private async sendWithRetries(request: GraphRequest, call: GraphCallContext): Promise<FinalResponse> {
    const { maxRetries, maxRetryAfterS, timeoutMs, deadlineMs, signal, observer } = this.#options;
    const deadline = Date.now() + deadlineMs;
    const url = this.#options.baseUrl + request.path;
    const headers: Record<string, string> = {
      authorization: call.authorization,
      'client-request-id': call.clientRequestId,
    };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      // Given, got does not measure the body itself (it encodes the whole string again to count bytes).
      headers['content-length'] = String(Buffer.byteLength(request.body));
    }
    // W3C trace context for Graph.
    if (this.#options.traced) propagation.inject(context.active(), headers);

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw shuttingDown();
      const slot = this.#scheduler.acquire(request.mailbox, deadline, attempt > 1);
      if (slot !== undefined) {
        const waitStarted = performance.now();
        await slot;
        observer?.mailboxWait((performance.now() - waitStarted) / 1000);
        // Shutdown may have begun while the slot was being handed over: its listener ended the
        // exchanges in flight then, and this one would not be among them.
        if (signal?.aborted) {
          this.#scheduler.release(request.mailbox);
          throw shuttingDown();
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#scheduler.release(request.mailbox);
        throw waitedPastDeadline();
      }
      const attemptTimeout = Math.min(timeoutMs, remaining);
      call.stats.attempts++;
      let outcome: GraphResponse | GatewayError;
      const attemptStarted = performance.now();
      try {
        outcome = await this.exchange(url, request, headers, Math.max(1, attemptTimeout));
      } catch (error) {
        outcome = this.errorFromFailure(error, attemptTimeout < timeoutMs);
      }
      const status = outcome instanceof GatewayError ? answeredStatus(outcome) : outcome.status;
      if (status !== null) call.stats.upstreamStatus = status;
      observer?.attempt(request.method, status, (performance.now() - attemptStarted) / 1000);

      const retryable = outcome instanceof GatewayError ? isRetryableFailure(outcome) : isRetryableStatus(outcome.status);
      const retryAfter =
        retryable && !(outcome instanceof GatewayError) ? parseRetryAfter(headerValue(outcome, 'retry-after'), Date.now()) : undefined;
      // Only a call that may be retried has a wait (a 429 is retryable, so pausing below has one).
      const waitMs = !retryable ? 0 : retryAfter !== undefined ? retryAfter * 1000 : backoffDelayMs(attempt, this.#random());
      // A 429 is about the mailbox, not this call: the calls waiting for it hold back as well.
      if (!(outcome instanceof GatewayError) && outcome.status === 429) this.#scheduler.pause(request.mailbox, waitMs);
      this.#scheduler.release(request.mailbox);
      if (!retryable) {
        if (outcome instanceof GatewayError) throw outcome;
        return outcome;
      }

      const giveUp =
        attempt > maxRetries ||
        (retryAfter !== undefined && retryAfter > maxRetryAfterS) ||
        // The wait would outlast the call's deadline: answer now with what Graph said.
        Date.now() + waitMs >= deadline ||
        signal?.aborted === true;
      if (giveUp) {
        if (outcome instanceof GatewayError) throw outcome;
        return { ...outcome, retryAfter: retryAfter ?? roundSeconds(waitMs / 1000) };
      }
      observer?.retry(request.method);
      try {
        await sleep(waitMs, undefined, signal ? { signal } : undefined);
      } catch {
        throw shuttingDown();
      }
    }
  }

  /**
   * One HTTP exchange with Graph. The body is read as a stream so that an answer over
   * `MAX_RESPONSE_BYTES` is cut off and answered BAD_GATEWAY, never buffered
   * whole; got has no size limit of its own. Rejects with got's error when no answer came.
   */
  private exchange(
    url: string,
    request: GraphRequest,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<GraphResponse | GatewayError> {
    return new Promise((resolve, reject) => {
      const stream = this.#got.stream(url, {
        method: request.method,
        headers,
        ...(request.body !== undefined && { body: request.body }),
      });
      // The attempt's timeout is one timer of ours: got's `timeout` option arms timers and
      // listeners for each phase of every request (measured: 17 us of CPU per call). Shutdown
      // ends the exchange through `#exchanges`: got never removes the listener it adds to a
      // `signal` option, and the shutdown signal lives as long as the process (each call would
      // stay reachable from it); a listener of our own per call cost 1% of the gateway's CPU.
      let ended: Error | undefined;
      const end = (reason: Error): void => {
        ended = reason;
        stream.destroy(reason);
      };
      const timer = setTimeout(() => end(new AttemptTimeoutError(timeoutMs)), timeoutMs);
      this.#exchanges.add(end);
      const done = (): void => {
        clearTimeout(timer);
        this.#exchanges.delete(end);
      };
      let status = 0;
      let responseHeaders: GraphResponse['headers'] = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const tooLarge = (): void => {
        stream.destroy();
        done();
        resolve(errorFromOversizedBody({ status, headers: responseHeaders, body: '' }, MAX_RESPONSE_BYTES));
      };
      stream.once('response', (response: { statusCode: number; headers: GraphResponse['headers'] }) => {
        status = response.statusCode;
        responseHeaders = response.headers;
        if (Number(response.headers['content-length']) > MAX_RESPONSE_BYTES) tooLarge();
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) return tooLarge();
        chunks.push(chunk);
      });
      stream.once('end', () => {
        done();
        resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks, size).toString('utf8') });
      });
      stream.once('error', (error) => {
        done();
        // got wraps the reason a stream was destroyed with; the reason is what happened.
        reject(ended ?? error);
      });
    });
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

/**
 * got with its (unused) HTTP-cache settings emptied. On every request got builds Node's
 * options as `{ ...cacheOptions, ...unixOptions, <some thirty options> }`; on Node 20's V8 an
 * object literal that spreads a non-empty object and then adds that many properties falls off
 * a fast path: 38 us per call, against 0.2 us when the spread object is empty (Node 22's V8 has
 * no such cliff). got only reads `cacheOptions` when its `cache` option is set, which this
 * client never sets. `mutableDefaults` is got's public way to change an instance's defaults.
 */
function gotWithoutCacheOptions(): Got {
  const mutable = got.extend({ mutableDefaults: true });
  mutable.defaults.options.cacheOptions = {};
  return mutable.extend({ mutableDefaults: false });
}

/**
 * got's `request` hook: Node's `request` with only what this client sets (method, headers,
 * agent). got hands over some forty options, mostly TLS and DNS settings left unset, which Node's
 * agent then copies and walks on every call (measured: 17 us of CPU per call).
 */
const nativeRequest: RequestFunction = (url, options, callback) => {
  // The URL's parts are given as options: handed a URL object, Node copies it into a fresh
  // options object field by field on every call.
  const settings = {
    method: options.method,
    headers: options.headers,
    agent: options.agent,
    protocol: url.protocol,
    // An IPv6 literal comes bracketed in a URL, and without brackets in Node's options.
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    path: url.pathname + url.search,
  };
  return url.protocol === 'https:' ? https.request(settings as https.RequestOptions, callback) : http.request(settings as http.RequestOptions, callback);
};

/** An attempt that Graph did not finish answering in time (named as got names its own). */
class AttemptTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`Timeout awaiting the answer for ${timeoutMs}ms`);
    this.name = 'TimeoutError';
  }
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

function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function shuttingDown(): GatewayError {
  return new GatewayError(GatewayErrorCode.SHUTTING_DOWN, null);
}
