import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultQueue } from '../fault-queue.js';
import { ContactStore, parseContactListPath, type ContactListPath, type SimulatedContact } from './contacts.js';
import { CONTROL_PREFIX, answerControl } from './control-api.js';
import { batchResponse, itemHeaders, parseBatch, type SimAnswer } from './graph-batch.js';
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
export type { SimulatedContact } from './contacts.js';

/** What a request's path names: a contact's photo, or a mailbox's contact list. */
type Target = PhotoPath | ContactListPath;

/** The photo or the contact list `url` names, `undefined` for any other path. */
function parseTarget(url: string): Target | undefined {
  return parsePhotoPath(url) ?? parseContactListPath(url);
}

export interface GraphSimulatorOptions {
  /** Delay before every normal answer (each item of a batch too), in milliseconds: Graph's work. */
  latencyMs?: number;
  /** Delay once per HTTP request (a direct call, or a whole batch), in milliseconds: the network's round trip. */
  networkLatencyMs?: number;
  /** Items of one batch run at once; default 4, as Graph sends Outlook at most 4 items of a batch at a time. */
  batchItemConcurrency?: number;
  /**
   * Outlook's limit: at most this many concurrent requests per mailbox (`invitationId`); more
   * are answered 429 with `Retry-After`. No limit when absent.
   */
  mailboxConcurrency?: number;
  /** `Retry-After` seconds of the mailbox-limit 429; default 1. */
  mailboxRetryAfterS?: number;
  /** How many received requests `requests` keeps, newest last; default 10,000. */
  requestLogSize?: number;
  /**
   * Who a bearer token is for, photos being kept per that principal; `undefined` refuses the
   * token (401). By default any token is its own principal. With sign-in (`obo`), the Entra
   * simulator's `graphPrincipal`: Graph then accepts only the tokens its token endpoint issued.
   */
  principal?: (token: string) => Promise<string | undefined> | string | undefined;
  /**
   * The fault API over HTTP (`/_simulator/faults`, `/_simulator/reset`: control-api.ts), for
   * `npm run demo` only; without it those paths are answered as any path Graph does not have.
   */
  controlApi?: boolean;
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
  /** For an item of a `$batch`, which batch it came in (`"1"`, `"2"`, ... since start); the envelope itself has none. */
  batchId?: string;
}

/** A request as Graph's handlers take it: a direct one, or an item of a batch. */
interface SimRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: Buffer;
}

interface StoredPhoto {
  id: string;
  height: number | null;
  width: number | null;
}

/** A contact's picture, as uploaded to `photo/$value`. */
interface StoredImage {
  bytes: Buffer;
  /** The picture's version: the `ETag` of `photo/$value` and the metadata's `@odata.mediaEtag` alike, as OData has it. */
  etag: string;
}

/**
 * What a normal answer sends: a photo's metadata (with its `@odata.mediaEtag`), the picture's
 * bytes, a JSON body (a contact list), or nothing (an upload's 200).
 */
type Answer = { photo: StoredPhoto; mediaEtag: string } | { image: StoredImage } | { json: Record<string, unknown> } | { empty: true };

/**
 * A small in-memory Microsoft Graph serving `GET` and `PATCH` on
 * `/beta/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo`, and `GET`, `PUT`
 * and `PATCH` on its `/$value`, `GET /beta/invitations/{invitationId}/invitedUser/contacts`
 * (contacts.ts), and JSON batches of those (`POST /beta/$batch`), as described
 * in docs/graph-behaviour.md: it requires a bearer
 * token, keeps photos and pictures per (token's principal, invitation, contact), checks uploads as Graph does
 * (`image/jpeg`, at most 4 MB, a readable JPEG whose pixel size becomes the metadata), answers
 * Graph-shaped errors, and can be told to fail.
 */
export class GraphSimulator {
  readonly #options: GraphSimulatorOptions;
  readonly #server: http.Server;
  readonly #photos = new Map<string, StoredPhoto>();
  readonly #images = new Map<string, StoredImage>();
  readonly #contacts = new ContactStore();
  readonly #faults = new FaultQueue<Fault>();
  readonly #inFlight = new Map<string, number>();
  readonly #sockets = new Set<Socket>();
  #requests: ReceivedRequest[] = [];
  #throttled = 0;
  #httpRequests = 0;
  #batches = 0;
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

  /** How many HTTP requests arrived since the last `reset()` (a batch is one, whatever its items). */
  get httpRequestCount(): number {
    return this.#httpRequests;
  }

  /** The requests received since the last `reset()`, oldest first: each HTTP request, and each item of a batch (with its `batchId`). */
  get requests(): readonly ReceivedRequest[] {
    return this.#requests;
  }

  /** Queues a fault for the next matching request(s). */
  fail(fault: Fault): this {
    this.#faults.add(fault);
    return this;
  }

  /** The faults still queued, in order. */
  get pendingFaults(): readonly Fault[] {
    return this.#faults.pending;
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Forgets the received requests and their counts (not faults, not stored photos). */
  forgetRequests(): void {
    this.#requests = [];
    this.#throttled = 0;
    this.#httpRequests = 0;
  }

  /**
   * Adds contacts to a mailbox (`invitationId`), listed by `GET .../invitedUser/contacts` to
   * every principal alike; a contact's `picture` is every principal's photo of it (its bytes,
   * and metadata with its pixel size, as an upload makes) until one uploads its own.
   */
  addContacts(invitationId: string, contacts: SimulatedContact[]): this {
    this.#contacts.add(invitationId, contacts);
    return this;
  }

  /** Forgets faults, received requests, stored photos and contacts. */
  reset(): void {
    this.#contacts.clear();
    this.#faults.clear();
    this.#requests = [];
    this.#throttled = 0;
    this.#httpRequests = 0;
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
    // Before the count and the log: the fault API is not a request to Graph.
    if (this.#options.controlApi && request.url?.startsWith(CONTROL_PREFIX)) return answerControl(this, request, bytes, response);
    this.#httpRequests++;
    const url = request.url ?? '/';
    const method = request.method ?? '';
    const ids = parseTarget(url);
    this.record({ method, url, invitationId: ids?.invitationId, contactId: ids?.contactId, headers: request.headers, body: bytes.toString('utf8'), bytes, receivedAt: performance.now() });
    if (this.#options.networkLatencyMs) await delay(this.#options.networkLatencyMs);

    const batch = method === 'POST' && /^\/[^/?]+\/\$batch(\?|$)/.test(url);
    const fault = this.takeFault(method, ids, batch);
    if (fault && answersOverHttp(fault)) return this.answerFaultOverHttp(fault, request, response);
    const answer = batch ? await this.answerBatch(request, bytes, fault) : await this.respond({ method, url, headers: request.headers, bytes }, ids, fault);
    this.send(request, response, answer);
  }

  /**
   * One request through Graph's handling, direct or an item of a batch: a fault's answer, or
   * Outlook's mailbox limit, or Graph's normal behaviour after the latency.
   */
  private async respond(request: SimRequest, ids: Target | undefined, fault: Fault | undefined): Promise<SimAnswer> {
    const clientRequestId = header(request.headers['client-request-id']);
    if (fault && changesAnswer(fault)) return this.faultAnswer(fault, clientRequestId);
    const mailbox = ids?.invitationId;
    const limit = this.#options.mailboxConcurrency;
    let release = (): void => undefined;
    if (mailbox !== undefined && limit !== undefined) {
      const inFlight = this.#inFlight.get(mailbox) ?? 0;
      if (inFlight >= limit) {
        this.#throttled++;
        return errorAnswer(429, 'TooManyRequests', 'Application is over its MailboxConcurrency limit.', clientRequestId, {
          'retry-after': String(this.#options.mailboxRetryAfterS ?? 1),
        });
      }
      this.#inFlight.set(mailbox, inFlight + 1);
      release = () => {
        const left = (this.#inFlight.get(mailbox) ?? 1) - 1;
        if (left === 0) this.#inFlight.delete(mailbox);
        else this.#inFlight.set(mailbox, left);
      };
    }
    try {
      const latencyMs = (this.#options.latencyMs ?? 0) + (fault?.delayMs ?? 0);
      if (latencyMs > 0) await delay(latencyMs);
      if (fault?.holdUntil) await fault.holdUntil.catch(() => undefined);
      const answer = await this.answer(request, ids);
      if ('photo' in answer) return jsonAnswer(200, this.photoBody(answer.photo, answer.mediaEtag));
      if ('json' in answer) return jsonAnswer(200, answer.json);
      if ('image' in answer) return { status: 200, headers: { 'content-type': 'image/jpeg', etag: answer.image.etag }, body: answer.image.bytes };
      return { status: 200, headers: {}, body: Buffer.alloc(0) };
    } catch (error) {
      if (!(error instanceof GraphHttpError)) throw error;
      return errorAnswer(error.status, error.code, error.message, clientRequestId);
    } finally {
      release();
    }
  }

  /**
   * `POST /$batch`: the envelope checked as Graph checks it, then its items run through
   * `respond` as direct requests would be, at most `batchItemConcurrency` at a time (Graph sends
   * Outlook 4 items of a batch at once), and answered in one 200.
   */
  private async answerBatch(request: http.IncomingMessage, bytes: Buffer, fault: Fault | undefined): Promise<SimAnswer> {
    const clientRequestId = header(request.headers['client-request-id']);
    if (fault && changesAnswer(fault)) return this.faultAnswer(fault, clientRequestId);
    if (fault?.delayMs) await delay(fault.delayMs);
    if (fault?.holdUntil) await fault.holdUntil.catch(() => undefined);
    let items;
    try {
      if (bearerToken(request.headers.authorization) === undefined) throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
      items = parseBatch(request.headers['content-type'], bytes.toString('utf8'));
    } catch (error) {
      if (!(error instanceof GraphHttpError)) throw error;
      return errorAnswer(error.status, error.code, error.message, clientRequestId);
    }
    const batchId = String(++this.#batches);
    const answered: Record<string, unknown>[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++]!;
        const ids = parseTarget(item.url);
        const headers = itemHeaders(item, request.headers);
        this.record({ method: item.method, url: item.url, invitationId: ids?.invitationId, contactId: ids?.contactId, headers, body: item.bytes.toString('utf8'), bytes: item.bytes, receivedAt: performance.now(), batchId });
        const itemFault = this.takeFault(item.method, ids, false);
        const answer =
          itemFault && answersOverHttp(itemFault)
            ? await this.overHttpFaultInBatch(itemFault, clientRequestId)
            : await this.respond({ method: item.method, url: item.url, headers, bytes: item.bytes }, ids, itemFault);
        answered.push(batchResponse(item.id, answer));
      }
    };
    await Promise.all(Array.from({ length: Math.min(items.length, this.#options.batchItemConcurrency ?? 4) }, worker));
    // Graph answers items in any order: the simulator answers them last-finished first, so that
    // a client matching answers to requests by position rather than by id is caught.
    return jsonAnswer(200, { responses: answered.reverse() });
  }

  /** A fault that only a connection can act out (a hang, a reset, a drip, a huge body), asked of a batch item. */
  private async overHttpFaultInBatch(fault: Fault, clientRequestId: string | undefined): Promise<SimAnswer> {
    if (fault.hang) await new Promise<never>(() => undefined);
    return errorAnswer(500, 'generalException', 'This fault is acted out on a connection; a batch item cannot show it.', clientRequestId);
  }

  /** Writes an answer, with Graph's `request-id` and the echoed `client-request-id`. */
  private send(request: http.IncomingMessage, response: http.ServerResponse, answer: SimAnswer): void {
    response.writeHead(answer.status, { ...this.commonHeaders(request), ...answer.headers, 'content-length': answer.body.length });
    response.end(answer.body);
  }

  /** Graph's normal behaviour: what to answer, or the error Graph would answer. */
  private async answer(request: SimRequest, ids: Target | undefined): Promise<Answer> {
    const token = bearerToken(header(request.headers.authorization));
    if (token === undefined) {
      throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    }
    const principal = this.#options.principal ? await this.#options.principal(token) : token;
    if (principal === undefined) throw new GraphHttpError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    if (!ids) throw new GraphHttpError(400, 'invalidRequest', `Resource not found for the segment in '${request.url}'.`);
    if ('list' in ids) {
      if (request.method !== 'GET') throw new GraphHttpError(405, 'Request_BadRequest', `The ${request.method} method is not supported here.`);
      return { json: this.#contacts.list(ids.invitationId, request.url, this.#baseUrl ?? '') };
    }
    const key = JSON.stringify([principal, ids.invitationId, ids.contactId]);
    const seeded = this.#contacts.picture(ids.invitationId, ids.contactId);
    if (ids.value) return this.answerValue(request, key, seeded);
    switch (request.method) {
      case 'GET': {
        const photo = this.#photos.get(key) ?? seeded?.photo;
        if (!photo) throw new GraphHttpError(404, 'ImageNotFound', "The photo wasn't found.");
        return { photo, mediaEtag: this.mediaEtag(key, photo, seeded) };
      }
      case 'PATCH': {
        const patch = parsePatch(header(request.headers['content-type']), request.bytes.toString('utf8'));
        const current = this.#photos.get(key) ?? seeded?.photo ?? { id: '1x1', height: null, width: null };
        const height = patch.height === undefined ? current.height : patch.height;
        const width = patch.width === undefined ? current.width : patch.width;
        const photo = { id: height !== null && width !== null ? `${width}X${height}` : '1x1', height, width };
        this.#photos.set(key, photo);
        return { photo, mediaEtag: this.mediaEtag(key, photo, seeded) };
      }
      default:
        throw new GraphHttpError(405, 'Request_BadRequest', `The ${request.method} method is not supported here.`);
    }
  }

  /** `photo/$value`: the picture's bytes, or a new picture (whose pixel size becomes the metadata). */
  private async answerValue(request: SimRequest, key: string, seeded: StoredImage | undefined): Promise<Answer> {
    switch (request.method) {
      case 'GET': {
        const image = this.#images.get(key) ?? seeded;
        if (!image) throw new GraphHttpError(404, 'ImageNotFound', "The photo wasn't found.");
        return { image };
      }
      case 'PUT':
      case 'PATCH': {
        const { bytes } = request;
        checkPhotoUpload(header(request.headers['content-type']), bytes);
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

  /** The pictures stored, by (principal: the token unless `principal` says otherwise, invitation, contact): for tests to read what Graph was sent. */
  storedImage(principal: string, invitationId: string, contactId: string): Buffer | undefined {
    return this.#images.get(JSON.stringify([principal, invitationId, contactId]))?.bytes;
  }

  /**
   * The picture's `ETag` when there is one, the principal's own or the seeded one (Graph gives the
   * media's ETag as `@odata.mediaEtag`), else one made of the id.
   */
  private mediaEtag(key: string, photo: StoredPhoto, seeded: StoredImage | undefined): string {
    return (this.#images.get(key) ?? seeded)?.etag ?? `"${photo.id}"`;
  }

  private photoBody(photo: StoredPhoto, mediaEtag: string): Record<string, unknown> {
    return {
      '@odata.context': `${this.#baseUrl ?? ''}/$metadata#profilePhoto/$entity`,
      '@odata.type': ODATA_TYPE,
      '@odata.mediaContentType': 'image/jpeg',
      '@odata.mediaEtag': mediaEtag,
      ...photo,
    };
  }

  /**
   * The first fault for this request: `batch` faults answer a `$batch` envelope, `list` faults a
   * contact list, every other fault a photo request (direct or an item).
   */
  private takeFault(method: string | undefined, ids: Target | undefined, batch: boolean): Fault | undefined {
    const list = ids !== undefined && 'list' in ids;
    return this.#faults.take(
      (fault) =>
        (fault.batch === true) === batch &&
        (fault.list === true) === list &&
        (fault.method === undefined || fault.method === method) &&
        (fault.value === undefined || fault.value === ids?.value) &&
        (fault.invitationId === undefined || fault.invitationId === ids?.invitationId) &&
        (fault.contactId === undefined || fault.contactId === ids?.contactId),
    );
  }

  /** A fault's answer, when it is one an answer can carry: a status, an error, a body, a redirect. */
  private async faultAnswer(fault: Fault, clientRequestId: string | undefined): Promise<SimAnswer> {
    if (fault.delayMs) await delay(fault.delayMs);
    if (fault.holdUntil) await fault.holdUntil.catch(() => undefined);
    const extra: Record<string, string> = {};
    if (fault.retryAfter !== undefined) extra['retry-after'] = fault.retryAfter;
    if (fault.redirectTo !== undefined) extra['location'] = fault.redirectTo;
    const status = fault.status ?? (fault.redirectTo !== undefined ? 302 : 500);
    const body = fault.body ?? (fault.redirectTo !== undefined ? 'empty' : undefined);
    if (body === undefined || body === 'huge') {
      return errorAnswer(status, fault.code ?? defaultErrorCode(status), fault.message ?? `Simulated ${status}.`, clientRequestId, extra);
    }
    const [contentType, text] = faultBody(body);
    return { status, headers: { ...(contentType && { 'content-type': contentType }), ...extra }, body: Buffer.from(text) };
  }

  /** A fault only a connection can act out: a hang, a reset, a drip, or a huge body streamed. */
  private async answerFaultOverHttp(fault: Fault, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (fault.delayMs) await delay(fault.delayMs);
    if (fault.hang) return;
    if (fault.reset === 'before-headers') {
      request.socket.destroy();
      return;
    }
    const status = fault.status ?? 500;
    if (fault.reset === 'mid-body') {
      const extra = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      response.writeHead(status, { ...this.commonHeaders(request), 'content-type': 'application/json', 'content-length': '1000', ...extra });
      response.write('{"id": "partial');
      setImmediate(() => request.socket.destroy());
      return;
    }
    if (fault.drip) return drip(response, this.commonHeaders(request));
    return streamHugeBody(response, status, this.commonHeaders(request));
  }

  private commonHeaders(request: http.IncomingMessage): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { 'request-id': randomUUID() };
    const clientRequestId = request.headers['client-request-id'];
    if (typeof clientRequestId === 'string') headers['client-request-id'] = clientRequestId;
    return headers;
  }

  private record(request: ReceivedRequest): void {
    if (this.#options.requestLogSize === 0) return;
    this.#requests.push(request);
    const limit = this.#options.requestLogSize ?? 10_000;
    if (this.#requests.length > limit) this.#requests.splice(0, this.#requests.length - limit);
  }
}

/** Whether a fault is acted out on the connection rather than carried by an answer. */
function answersOverHttp(fault: Fault): boolean {
  return fault.hang === true || fault.reset !== undefined || fault.drip === true || fault.body === 'huge';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function jsonAnswer(status: number, body: unknown, extra: Record<string, string> = {}): SimAnswer {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...extra }, body: Buffer.from(JSON.stringify(body)) };
}

/** An OData v4 error, shaped as Graph sends it, its `request-id` the same in the body and the header. */
function errorAnswer(status: number, code: string, message: string, clientRequestId: string | undefined, extra: Record<string, string> = {}): SimAnswer {
  const requestId = randomUUID();
  const innerError = { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId };
  return jsonAnswer(status, { error: { code, message, innerError } }, { 'request-id': requestId, ...extra });
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
