import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../errors/codes.js';
import { callerLeft } from '../errors/gateway-error.js';
import { PhotoQueueFullError, type PhotoProcessor, type PhotoTicket } from '../photos/photo-processor.js';
import { sendError } from './http-errors.js';

/**
 * Uploads are decided from their headers, before a byte of the body is read (and, for a client
 * that sent `Expect: 100-continue`, before it is told to send it): a cross-site form, a body too
 * large, one of unknown length, or one that would not fit the photo queue is refused at once.
 * An admitted upload holds a place in the photo queue until its answer is sent (its bytes are in
 * memory until then), and carries a signal that is aborted if the caller leaves before that.
 */

/** What an admitted upload carries from its headers to its resolver. */
export interface UploadAdmission {
  /** Its place in the photo queue, given back when the HTTP answer is done. */
  ticket: PhotoTicket;
  /** Aborted, with CLIENT_CLOSED_REQUEST, when the caller goes away before the answer is sent. */
  signal: AbortSignal;
  /** The body's announced length: an upper bound for the file, so its buffer is allocated once. */
  contentLength: number;
}

/** Apollo's CSRF prevention: a `multipart/form-data` request needs one of these headers. */
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name'] as const;

/** Tested on every GraphQL request's header: a regular expression, so no lower-cased copy is made. */
const IS_MULTIPART = /^multipart\/form-data/i;

/**
 * Room in a multipart body beyond the file: the `operations` and `map` fields (100 KiB each at
 * most, see multipart.ts) and the parts' boundaries and headers.
 */
export const MULTIPART_OVERHEAD_BYTES = 2 * 100 * 1024 + 16 * 1024;

const admissions = new WeakMap<IncomingMessage, UploadAdmission>();

/** The admission of this request's upload, made by `admitUpload` from its headers. */
export function uploadAdmission(request: IncomingMessage): UploadAdmission | undefined {
  return admissions.get(request);
}

/**
 * For a GraphQL request: when it is a multipart upload, either refuses it (answering, and
 * returning `true`) or admits it. Other requests pass (`false`) untouched.
 */
export function admitUpload(request: FastifyRequest, reply: FastifyReply, photos: PhotoProcessor, maxFileBytes: number): boolean {
  const contentType = request.headers['content-type'];
  if (contentType === undefined || !IS_MULTIPART.test(contentType)) return false;
  const expectsContinue = request.headers.expect?.toLowerCase() === '100-continue';
  // A refused body is never buffered. Closing the connection at once spares reading it, but a
  // client still sending (fetch, a browser) then sees a reset, not the answer; so a body of a
  // size the gateway accepts anyway is read and discarded by Node (keep-alive), and only a
  // client that has not sent its body (Expect: 100-continue), a body of unknown or excessive
  // size, or a cross-site form is answered with the connection closed.
  const refuse = (status: number, code: GatewayErrorCode, message: string, extensions?: Record<string, unknown>, drain = false): true => {
    if (!drain || expectsContinue) void reply.header('connection', 'close');
    sendError(reply, status, code, message, extensions);
    return true;
  };
  if (!PREFLIGHT_HEADERS.some((name) => (request.headers[name] ?? '') !== '')) {
    return refuse(
      400,
      GatewayErrorCode.BAD_REQUEST,
      'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). A multipart/form-data ' +
        'request must carry a non-empty apollo-require-preflight (or x-apollo-operation-name) header.',
    );
  }
  const declared = request.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared)) {
    // Browsers, curl and Apollo's upload link all send it: a streamed body of unknown size could
    // not be given its one buffer, nor refused before it is read.
    return refuse(411, GatewayErrorCode.BAD_REQUEST, 'An upload must be sent with a Content-Length header.');
  }
  const contentLength = Number(declared);
  if (contentLength > maxFileBytes + MULTIPART_OVERHEAD_BYTES) {
    return refuse(413, GatewayErrorCode.PAYLOAD_TOO_LARGE, `The file is larger than the gateway accepts (${maxFileBytes} bytes).`);
  }
  let ticket: PhotoTicket;
  try {
    ticket = photos.admit();
  } catch (error) {
    if (!(error instanceof PhotoQueueFullError)) throw error;
    void reply.header('retry-after', String(error.retryAfterS));
    return refuse(429, GatewayErrorCode.TOO_MANY_REQUESTS, error.message, { retryAfter: error.retryAfterS }, true);
  }
  const caller = new AbortController();
  // 'close' comes once the answer is written, or earlier when the connection goes.
  reply.raw.once('close', () => {
    ticket.release();
    if (!reply.raw.writableFinished) caller.abort(callerLeft());
  });
  admissions.set(request.raw, { ticket, signal: caller.signal, contentLength });
  return false;
}
