import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticate } from '../../auth/caller-authentication.js';
import { SignInRefusal } from '../../auth/sign-in-refusal.js';
import { GatewayErrorCode } from '../../errors/codes.js';
import { callerLeft, missingToken } from '../../errors/gateway-error.js';
import { PhotoQueueFullError, type PhotoProcessor, type PhotoTicket } from '../../photos/photo-processor.js';
import { bearerAuthorization } from './caller.js';
import { sendError } from './http-errors.js';
import { closeAfterLingering } from './lingering-close.js';

/**
 * Uploads are decided from their headers, before a byte of the body is read (and, for a client
 * that sent `Expect: 100-continue`, before it is told to send it): a cross-site form, a caller
 * without a bearer token (with sign-in, one whose token is refused), a body too large or of unknown length, one that would not fit the
 * photo queue or the process's budget of upload bytes is refused at once. An admitted upload
 * holds its place and its bytes of budget until its answer is sent, carries a signal that is
 * aborted if the caller leaves before that, and must have sent its whole body within
 * `bodyTimeoutMs`.
 */

/** What an admitted upload carries from its headers to the body parser and the resolver (as `context.upload`). */
export interface UploadAdmission {
  /** Its place in the photo queue, given back when the HTTP answer is done. */
  ticket: PhotoTicket;
  /** Aborted, with CLIENT_CLOSED_REQUEST, when the caller goes away before the answer is sent. */
  signal: AbortSignal;
  /** The body's announced length: an upper bound for the file, so its buffer is allocated once. */
  contentLength: number;
}

export interface UploadGateOptions {
  photos: PhotoProcessor;
  /** `PHOTO_MAX_UPLOAD_BYTES`. */
  maxFileBytes: number;
  /** `PHOTO_UPLOAD_BUDGET_BYTES`: the announced lengths of the uploads admitted at once, at most. */
  budgetBytes: number;
  /** `PHOTO_UPLOAD_TIMEOUT_MS`: time an admitted upload has to send its whole body. */
  bodyTimeoutMs: number;
  /** With sign-in: the caller's token checked before the body is read or a place is held. */
  authenticate?: Authenticate;
}

/** Why an upload is refused, and how: `drain` reads and drops its body (keep-alive) rather than closing. */
interface Refusal {
  status: number;
  code: GatewayErrorCode;
  message: string;
  drain?: boolean;
  retryAfterS?: number;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/** Apollo's CSRF prevention: a `multipart/form-data` request needs one of these headers. */
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name'] as const;

/** Tested on every GraphQL request's header: a regular expression, so no lower-cased copy is made. */
const IS_MULTIPART = /^multipart\/form-data/i;

/** The multipart request's JSON fields (`operations`, `map`) get the same limit as a JSON body. */
export const MAX_FIELD_BYTES = 100 * 1024;

/** Room in a multipart body beyond the file: the two JSON fields, and the parts' boundaries and headers. */
const MULTIPART_OVERHEAD_BYTES = 2 * MAX_FIELD_BYTES + 16 * 1024;

/** The refusal of a file over `PHOTO_MAX_UPLOAD_BYTES`, from the headers here or while reading it (multipart.ts). */
export function fileTooLarge(maxFileBytes: number): string {
  return `The file is larger than the gateway accepts (${maxFileBytes} bytes).`;
}

/** What Node itself answers when a request's time runs out. */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

const admissions = new WeakMap<IncomingMessage, UploadAdmission>();

/** The admission of this request's upload, made by `UploadGate.admit` from its headers. */
export function uploadAdmission(request: IncomingMessage): UploadAdmission | undefined {
  return admissions.get(request);
}

/** The gate uploads pass through before their body is read; one per gateway. */
export class UploadGate {
  readonly #options: UploadGateOptions;
  #bytesAdmitted = 0;

  constructor(options: UploadGateOptions) {
    this.#options = options;
  }

  /** The announced lengths of the uploads admitted now, in bytes. */
  get bytesAdmitted(): number {
    return this.#bytesAdmitted;
  }

  /** Whether this GraphQL request is a multipart upload, which `admit` decides on before its body is read. */
  isUpload(request: FastifyRequest): boolean {
    const contentType = request.headers['content-type'];
    return contentType !== undefined && IS_MULTIPART.test(contentType);
  }

  /**
   * Decides an upload from its headers, and with sign-in its token: either refuses it (answering,
   * and resolving `true`; also `true` for a caller gone before it was decided) or admits it
   * (`false`), holding its place in the photo queue and its
   * bytes of budget until its answer is sent.
   */
  async admit(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const contentLength = announcedLength(request, this.#options.maxFileBytes);
    if (typeof contentLength !== 'number') return refuse(request, reply, contentLength);
    const callerRefusal = await refusalOfCaller(request, this.#options.authenticate);
    if (callerRefusal) return refuse(request, reply, callerRefusal);
    // The token's check may take turns of the event loop: a caller who left meanwhile has had its
    // 'close', which would never give back a place held now.
    if (reply.raw.closed || request.raw.destroyed) return true;
    const place = this.#holdPlace(contentLength);
    if ('status' in place) return refuse(request, reply, place);
    this.#holdUntilAnswered(request, reply, place, contentLength);
    return false;
  }

  /** A place in the photo queue and `contentLength` bytes of the budget, or why there is none now. */
  #holdPlace(contentLength: number): PhotoTicket | Refusal {
    const { photos, budgetBytes } = this.#options;
    if (this.#bytesAdmitted + contentLength > budgetBytes) {
      const message = 'The gateway is receiving as many upload bytes as it holds; try again shortly.';
      return { status: 503, code: GatewayErrorCode.TOO_MANY_REQUESTS, message, drain: true, retryAfterS: photos.retryAfterS() };
    }
    try {
      const ticket = photos.admit();
      this.#bytesAdmitted += contentLength;
      return ticket;
    } catch (error) {
      if (!(error instanceof PhotoQueueFullError)) throw error;
      return { status: 429, code: GatewayErrorCode.TOO_MANY_REQUESTS, message: error.message, drain: true, retryAfterS: error.retryAfterS };
    }
  }

  /**
   * Keeps the upload's place and bytes until its answer is sent (or the caller leaves, which
   * aborts its signal), and gives its body `bodyTimeoutMs` to arrive.
   */
  #holdUntilAnswered(request: FastifyRequest, reply: FastifyReply, ticket: PhotoTicket, contentLength: number): void {
    const caller = new AbortController();
    // A slow sender holds a place and its budget: it gets bodyTimeoutMs, not the whole request timeout.
    const bodyTimer = setTimeout(() => {
      if (request.raw.complete || reply.raw.headersSent) return;
      request.raw.socket.end(REQUEST_TIMEOUT_RESPONSE, () => request.raw.socket.destroy());
    }, this.#options.bodyTimeoutMs);
    request.raw.once('end', () => clearTimeout(bodyTimer));
    // 'close' comes once the answer is written, or earlier when the connection goes.
    reply.raw.once('close', () => {
      clearTimeout(bodyTimer);
      ticket.release();
      this.#bytesAdmitted -= contentLength;
      if (!reply.raw.writableFinished) caller.abort(callerLeft());
    });
    admissions.set(request.raw, { ticket, signal: caller.signal, contentLength });
  }
}

/** The body's announced length, or why the upload is refused from its headers alone. */
function announcedLength(request: FastifyRequest, maxFileBytes: number): number | Refusal {
  if (!PREFLIGHT_HEADERS.some((name) => (request.headers[name] ?? '') !== '')) {
    const message =
      'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). A multipart/form-data ' +
      'request must carry a non-empty apollo-require-preflight (or x-apollo-operation-name) header.';
    return { status: 400, code: GatewayErrorCode.BAD_REQUEST, message };
  }
  const declared = request.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared)) {
    // Browsers, curl and Apollo's upload link all send it: a streamed body of unknown size could
    // not be given its one buffer, nor refused before it is read.
    return { status: 411, code: GatewayErrorCode.BAD_REQUEST, message: 'An upload must be sent with a Content-Length header.' };
  }
  const contentLength = Number(declared);
  if (contentLength > maxFileBytes + MULTIPART_OVERHEAD_BYTES) {
    return { status: 413, code: GatewayErrorCode.PAYLOAD_TOO_LARGE, message: fileTooLarge(maxFileBytes) };
  }
  return contentLength;
}

/**
 * Nothing of an upload is read for a caller who could not use it: why, when it has no token, or
 * with sign-in a token that is refused (no body is then read and no place held).
 */
async function refusalOfCaller(request: FastifyRequest, authenticate: Authenticate | undefined): Promise<Refusal | undefined> {
  const authorization = bearerAuthorization(request.headers.authorization);
  if (authorization === undefined) {
    return { status: 401, code: GatewayErrorCode.UNAUTHENTICATED, message: missingToken().message, drain: true, headers: { 'www-authenticate': 'Bearer' } };
  }
  if (!authenticate) return undefined;
  try {
    await authenticate(authorization);
    return undefined;
  } catch (error) {
    if (!(error instanceof SignInRefusal)) throw error;
    return { status: error.status, code: error.code, message: error.message, drain: true, headers: error.headers, extensions: error.extensions };
  }
}

/**
 * Answers a refused upload. A refused body is never buffered. A body of a size the gateway
 * accepts anyway is read and discarded by Node (keep-alive); a client that has not sent its body
 * (Expect: 100-continue), a body of unknown or excessive size, or a cross-site form is answered
 * with the connection closed, after a bounded lingering read of what the client still sends, so
 * that a client sending its body sees the answer rather than a reset (lingering-close.ts).
 */
function refuse(request: FastifyRequest, reply: FastifyReply, refusal: Refusal): true {
  const expectsContinue = request.headers.expect?.toLowerCase() === '100-continue';
  if (!refusal.drain || expectsContinue) {
    void reply.header('connection', 'close');
    closeAfterLingering(request.raw);
  }
  if (refusal.retryAfterS !== undefined) void reply.header('retry-after', String(refusal.retryAfterS));
  if (refusal.headers) void reply.headers(refusal.headers);
  sendError(reply, refusal.status, refusal.code, refusal.message, { ...(refusal.retryAfterS !== undefined && { retryAfter: refusal.retryAfterS }), ...refusal.extensions });
  return true;
}
