import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HUGE_BODY_BYTES, changesAnswer, defaultErrorCode, faultBody, type Fault } from './faults.js';
import {
  GraphHttpError,
  ODATA_TYPE,
  VERSION_SEGMENT,
  bearerToken,
  checkPhotoUpload,
  parsePatch,
  parsePhotoPath,
  type PhotoPath,
} from './graph-requests.js';

export type { Fault } from './faults.js';

export interface GraphSimulatorOptions {
  /** Delay before every normal answer, in milliseconds. */
  latencyMs?: number;
  /**
   * Outlook's limit: at most this many concurrent requests per mailbox (`invitationId`); more
   * are answered 429 with `Retry-After`. No limit when absent.
   */
  mailboxConcurrency?: number;
  /** `Retry-After` seconds of the mailbox-limit 429; default 1. */
  mailboxRetryAfterS?: number;
  /** How many received requests `requests` keeps, newest last; default 10,000. */
  requestLogSize?: number;
}

/** A request as the simulator received it. */
export interface ReceivedRequest {
  method: string;
  /** The raw request target, percent-encoding intact. */
  url: string;
  invitationId: string | undefined;
  contactId: string | undefined;
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  body: string;
  /** The body's bytes, as sent (a photo upload's JPEG). */
  bytes: Buffer;
  /** When the request's body had arrived (`performance.now()`, milliseconds). */
  receivedAt: number;
}

interface StoredPhoto {
  id: string;
  height: number | null;
  width: number | null;
}

/** A contact's picture, as uploaded to `photo/$value`. */
interface StoredImage {
  bytes: Buffer;
  etag: string;
}

/** What a normal answer sends: a photo's metadata, the picture's bytes, or nothing (an upload's 200). */
type Answer = { photo: StoredPhoto } | { image: StoredImage } | { empty: true };


/**
 * A small in-memory Microsoft Graph serving `GET` and `PATCH` on
 * `/beta/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo`, and `GET`, `PUT`
 * and `PATCH` on its `/$value`, as described in shared/graph-facts.md: it requires a bearer
 * token, keeps photos and pictures per (token, invitation, contact), checks uploads as Graph does
 * (`image/jpeg`, at most 4 MB, a readable JPEG whose pixel size becomes the metadata), answers
 * Graph-shaped errors, and can be told to fail.
 */
export class GraphSimulator {
  readonly #options: GraphSimulatorOptions;
  readonly #server: http.Server;
  readonly #photos = new Map<string, StoredPhoto>();
  readonly #images = new Map<string, StoredImage>();
  readonly #faults: Fault[] = [];
  readonly #inFlight = new Map<string, number>();
  readonly #sockets = new Set<Socket>();
  #requests: ReceivedRequest[] = [];
  #throttled = 0;
  #baseUrl: string | undefined;

  constructor(options: GraphSimulatorOptions = {}) {
    this.#options = options;
    this.#server = http.createServer((request, response) => void this.handle(request, response));
    this.#server.keepAliveTimeout = 30_000;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening (an ephemeral port by default) and answers the base URL, e.g. `http://127.0.0.1:5123/beta`. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#baseUrl = `http://${hostPart}:${address.port}/${VERSION_SEGMENT}`;
    return this.#baseUrl;
  }

  /** The base URL to give the gateway as `GRAPH_BASE_URL`. */
  get baseUrl(): string {
    if (this.#baseUrl === undefined) throw new Error('The simulator is not listening yet.');
    return this.#baseUrl;
  }

  /** How many requests were answered 429 for Outlook's mailbox limit since the last `reset()`. */
  get throttledCount(): number {
    return this.#throttled;
  }

  /** The requests received since the last `reset()`, oldest first. */
  get requests(): readonly ReceivedRequest[] {
    return this.#requests;
  }

  /** Queues a fault for the next matching request(s). */
  fail(fault: Fault): this {
    this.#faults.push({ ...fault });
    return this;
  }

  /** Forgets faults, received requests and stored photos. */
  reset(): void {
    this.#faults.length = 0;
    this.#requests = [];
    this.#throttled = 0;
    this.#photos.clear();
    this.#images.clear();
  }

  /** Stops listening and closes every connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const body = bytes.toString('utf8');
    const url = request.url ?? '/';
    const ids = parsePhotoPath(url);
    this.record({
      method: request.method ?? '',
      url,
      invitationId: ids?.invitationId,
      contactId: ids?.contactId,
      headers: request.headers,
      body,
      bytes,
      receivedAt: performance.now(),
    });

    const fault = this.takeFault(request.method, ids);
    if (fault && changesAnswer(fault)) return this.answerFault(fault, request, response);

    const mailbox = ids?.invitationId;
    const limit = this.#options.mailboxConcurrency;
    if (mailbox !== undefined && limit !== undefined) {
      const inFlight = this.#inFlight.get(mailbox) ?? 0;
      if (inFlight >= limit) {
        this.#throttled++;
        const retryAfter = String(this.#options.mailboxRetryAfterS ?? 1);
        return this.sendError(request, response, 429, 'TooManyRequests', 'Application is over its MailboxConcurrency limit.', {
          'retry-after': retryAfter,
        });
      }
      this.#inFlight.set(mailbox, inFlight + 1);
      response.once('close', () => {
        const left = (this.#inFlight.get(mailbox) ?? 1) - 1;
        if (left === 0) this.#inFlight.delete(mailbox);
        else this.#inFlight.set(mailbox, left);
      });
    }

    const latencyMs = (this.#options.latencyMs ?? 0) + (fault?.delayMs ?? 0);
    if (latencyMs > 0) await delay(latencyMs);
    if (fault?.holdUntil) await fault.holdUntil.catch(() => undefined);
    try {
      const answer = await this.answer(request, ids, bytes);
      if ('photo' in answer) this.sendJson(request, response, 200, this.photoBody(answer.photo));
      else if ('image' in answer) this.sendImage(request, response, answer.image);
      else response.writeHead(200, { ...this.commonHeaders(request), 'content-length': 0 }).end();
    } catch (error) {
      if (!(error instanceof GraphHttpError)) throw error;
      this.sendError(request, response, error.status, error.code, error.message);
    }
  }

  /** Graph's normal behaviour: what to answer, or the error Graph would answer. */
  private async answer(request: http.IncomingMessage, ids: PhotoPath | undefined, bytes: Buffer): Promise<Answer> {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    }
    if (!ids) throw new GraphHttpError(400, 'invalidRequest', `Resource not found for the segment in '${request.url}'.`);
    const key = JSON.stringify([token, ids.invitationId, ids.contactId]);
    if (ids.value) return this.answerValue(request, key, bytes);
    switch (request.method) {
      case 'GET': {
        const photo = this.#photos.get(key);
        if (!photo) throw new GraphHttpError(404, 'ImageNotFound', "The photo wasn't found.");
        return { photo };
      }
      case 'PATCH': {
        const patch = parsePatch(request.headers['content-type'], bytes.toString('utf8'));
        const current = this.#photos.get(key) ?? { id: '1x1', height: null, width: null };
        const height = patch.height === undefined ? current.height : patch.height;
        const width = patch.width === undefined ? current.width : patch.width;
        const photo = { id: height !== null && width !== null ? `${width}X${height}` : '1x1', height, width };
        this.#photos.set(key, photo);
        return { photo };
      }
      default:
        throw new GraphHttpError(405, 'Request_BadRequest', `The ${request.method} method is not supported here.`);
    }
  }

  /** `photo/$value`: the picture's bytes, or a new picture (whose pixel size becomes the metadata). */
  private async answerValue(request: http.IncomingMessage, key: string, bytes: Buffer): Promise<Answer> {
    switch (request.method) {
      case 'GET': {
        const image = this.#images.get(key);
        if (!image) throw new GraphHttpError(404, 'ImageNotFound', "The photo wasn't found.");
        return { image };
      }
      case 'PUT':
      case 'PATCH': {
        checkPhotoUpload(request.headers['content-type'], bytes);
        // sharp (libvips) is loaded with the first upload: the demo and the bench's upstream
        // start without it, as the gateway does.
        const { default: sharp } = await import('sharp');
        const { width, height, format } = await sharp(bytes)
          .metadata()
          .catch(() => ({ width: undefined, height: undefined, format: undefined }));
        if (format !== 'jpeg' || !width || !height) throw new GraphHttpError(400, 'ErrorInvalidImage', 'The photo is not a valid JPEG image.');
        const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 16)}"`;
        this.#images.set(key, { bytes, etag });
        this.#photos.set(key, { id: `${width}X${height}`, width, height });
        return { empty: true };
      }
      default:
        throw new GraphHttpError(405, 'Request_BadRequest', `The ${request.method} method is not supported here.`);
    }
  }

  private sendImage(request: http.IncomingMessage, response: http.ServerResponse, image: StoredImage): void {
    response.writeHead(200, {
      ...this.commonHeaders(request),
      'content-type': 'image/jpeg',
      'content-length': image.bytes.length,
      etag: image.etag,
    });
    response.end(image.bytes);
  }

  /** The pictures stored, by (token, invitation, contact): for tests to read what Graph was sent. */
  storedImage(token: string, invitationId: string, contactId: string): Buffer | undefined {
    return this.#images.get(JSON.stringify([token, invitationId, contactId]))?.bytes;
  }

  private photoBody(photo: StoredPhoto): Record<string, unknown> {
    return {
      '@odata.context': `${this.#baseUrl ?? ''}/$metadata#profilePhoto/$entity`,
      '@odata.type': ODATA_TYPE,
      '@odata.mediaContentType': 'image/jpeg',
      '@odata.mediaEtag': `"${photo.id}"`,
      ...photo,
    };
  }

  private takeFault(method: string | undefined, ids: PhotoPath | undefined): Fault | undefined {
    const index = this.#faults.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.value === undefined || fault.value === ids?.value) &&
        (fault.invitationId === undefined || fault.invitationId === ids?.invitationId),
    );
    if (index === -1) return undefined;
    const fault = this.#faults[index]!;
    const times = (fault.times ?? 1) - 1;
    if (times <= 0) this.#faults.splice(index, 1);
    else fault.times = times;
    return fault;
  }

  private async answerFault(fault: Fault, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (fault.delayMs) await delay(fault.delayMs);
    if (fault.hang) return;
    if (fault.reset === 'before-headers') {
      request.socket.destroy();
      return;
    }
    const extra: http.OutgoingHttpHeaders = {};
    if (fault.retryAfter !== undefined) extra['retry-after'] = fault.retryAfter;
    if (fault.redirectTo !== undefined) extra['location'] = fault.redirectTo;
    const status = fault.status ?? (fault.redirectTo !== undefined ? 302 : 500);
    if (fault.reset === 'mid-body') {
      response.writeHead(status, { ...this.commonHeaders(request), 'content-type': 'application/json', 'content-length': '1000', ...extra });
      response.write('{"id": "partial');
      setImmediate(() => request.socket.destroy());
      return;
    }
    if (fault.drip) return drip(response, this.commonHeaders(request));
    const body = fault.body ?? (fault.redirectTo !== undefined ? 'empty' : undefined);
    if (body === 'huge') return streamHugeBody(response, status, this.commonHeaders(request));
    if (body === undefined) {
      return this.sendError(request, response, status, fault.code ?? defaultErrorCode(status), fault.message ?? `Simulated ${status}.`, extra);
    }
    const [contentType, text] = faultBody(body);
    response.writeHead(status, {
      ...this.commonHeaders(request),
      ...(contentType && { 'content-type': contentType }),
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    response.end(text);
  }

  private commonHeaders(request: http.IncomingMessage): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { 'request-id': randomUUID() };
    const clientRequestId = request.headers['client-request-id'];
    if (typeof clientRequestId === 'string') headers['client-request-id'] = clientRequestId;
    return headers;
  }

  private sendJson(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    status: number,
    body: unknown,
    extra: http.OutgoingHttpHeaders = {},
  ): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      ...this.commonHeaders(request),
      'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    response.end(text);
  }

  /** An OData v4 error, shaped as Graph sends it. */
  private sendError(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    status: number,
    code: string,
    message: string,
    extra: http.OutgoingHttpHeaders = {},
  ): void {
    const headers = this.commonHeaders(request);
    const innerError = {
      date: new Date().toISOString().slice(0, 19),
      'request-id': headers['request-id'],
      'client-request-id': headers['client-request-id'],
    };
    this.sendJson(request, response, status, { error: { code, message, innerError } }, { ...headers, ...extra });
  }

  private record(request: ReceivedRequest): void {
    if (this.#options.requestLogSize === 0) return;
    this.#requests.push(request);
    const limit = this.#options.requestLogSize ?? 10_000;
    if (this.#requests.length > limit) this.#requests.splice(0, this.#requests.length - limit);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A 200 whose body never ends: one space every 50 ms until the client goes away. */
function drip(response: http.ServerResponse, headers: http.OutgoingHttpHeaders): void {
  response.writeHead(200, { ...headers, 'content-type': 'application/json' });
  response.write('{');
  const timer = setInterval(() => response.write(' '), 50);
  response.once('close', () => clearInterval(timer));
}

/** A valid JSON photo padded to `HUGE_BODY_BYTES`, written in 64 KiB chunks as the client reads. */
async function streamHugeBody(response: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders): Promise<void> {
  response.writeHead(status, { ...headers, 'content-type': 'application/json' });
  const chunk = ' '.repeat(64 * 1024);
  response.write(`{"@odata.type":"${ODATA_TYPE}","id":"1x1","height":1,"width":1,"padding":"`);
  for (let written = 0; written < HUGE_BODY_BYTES && !response.destroyed; written += chunk.length) {
    if (!response.write(chunk)) await drainedOrClosed(response);
  }
  response.end('"}');
}

/** Waits for the client to read on, or to go; the listener that did not fire is removed. */
function drainedOrClosed(response: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      response.off('drain', settle).off('close', settle);
      resolve();
    };
    response.once('drain', settle).once('close', settle);
  });
}
