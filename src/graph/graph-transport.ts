import http from 'node:http';
import https from 'node:https';
import got, { type Got, type Method, type RequestFunction } from 'got';
import type { GatewayError } from '../errors/gateway-error.js';
import { errorFromOversizedBody } from './error-mapping.js';
import type { GraphResponse } from './types.js';

/** One HTTP exchange to make with Graph: everything the transport needs, nothing of the policy. */
export interface Exchange {
  method: Method;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Largest answer read; past it the exchange ends with BAD_GATEWAY. */
  maxResponseBytes: number;
  /** Keep a 2xx answer's body as bytes (an image) rather than decoding it as UTF-8 text. */
  binary: boolean;
  /** Time for the whole exchange, in milliseconds. */
  timeoutMs: number;
}

/**
 * The HTTP side of the Graph client: the connection pool, got, and one exchange at a time. It
 * knows nothing of retries, mailboxes or tracing (that is `GraphClient`'s policy): it sends a
 * request and reads at most `maxResponseBytes` of the answer. Redirects are never followed.
 */
export class GraphTransport {
  readonly #got: Got;
  readonly #agents: { http: http.Agent; https: https.Agent };
  /** How to end each exchange in flight, for shutdown (one listener on the signal, not one per call). */
  readonly #inFlight = new Set<(reason: Error) => void>();

  constructor(userAgent: string) {
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
      headers: { 'user-agent': userAgent },
      request: nativeRequest,
    });
  }

  /**
   * One HTTP exchange with Graph. The body is read as a stream so that an answer over
   * `maxResponseBytes` (announced or streamed) is cut off and answered BAD_GATEWAY, never
   * buffered whole; got has no size limit of its own. Rejects with got's error, or the
   * attempt's timeout, when no answer came.
   */
  exchange(exchange: Exchange): Promise<GraphResponse | GatewayError> {
    const { maxResponseBytes } = exchange;
    return new Promise((resolve, reject) => {
      const stream = this.#got.stream(exchange.url, {
        method: exchange.method,
        headers: exchange.headers,
        ...(exchange.body !== undefined && { body: exchange.body }),
      });
      // The attempt's timeout is one timer of ours: got's `timeout` option arms timers and
      // listeners for each phase of every request (measured: 17 us of CPU per call). Shutdown
      // ends the exchange through `endAll`: got never removes the listener it adds to a
      // `signal` option, and the shutdown signal lives as long as the process (each call would
      // stay reachable from it); a listener of our own per call cost 1% of the gateway's CPU.
      let ended: Error | undefined;
      const end = (reason: Error): void => {
        ended = reason;
        stream.destroy(reason);
      };
      const timer = setTimeout(() => end(new AttemptTimeoutError(exchange.timeoutMs)), exchange.timeoutMs);
      this.#inFlight.add(end);
      const done = (): void => {
        clearTimeout(timer);
        this.#inFlight.delete(end);
      };
      let status = 0;
      let responseHeaders: GraphResponse['headers'] = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const tooLarge = (): void => {
        stream.destroy();
        done();
        resolve(errorFromOversizedBody({ status, headers: responseHeaders, body: '' }, maxResponseBytes));
      };
      stream.once('response', (response: { statusCode: number; headers: GraphResponse['headers'] }) => {
        status = response.statusCode;
        responseHeaders = response.headers;
        if (Number(response.headers['content-length']) > maxResponseBytes) tooLarge();
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxResponseBytes) return tooLarge();
        chunks.push(chunk);
      });
      stream.once('end', () => {
        done();
        const bytes = Buffer.concat(chunks, size);
        // A binary call's error answers are still Graph's JSON errors, read as text.
        if (exchange.binary && status >= 200 && status <= 299) resolve({ status, headers: responseHeaders, body: '', bytes });
        else resolve({ status, headers: responseHeaders, body: bytes.toString('utf8') });
      });
      stream.once('error', (error) => {
        done();
        // got wraps the reason a stream was destroyed with; the reason is what happened.
        reject(ended ?? error);
      });
    });
  }

  /** Ends every exchange in flight with `reason` (at the end of the shutdown grace period). */
  endAll(reason: Error): void {
    for (const end of this.#inFlight) end(reason);
  }

  /** Closes the pooled connections to Graph. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
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
