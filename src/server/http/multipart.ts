import type { IncomingMessage } from 'node:http';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { GatewayErrorCode } from '../../errors/codes.js';
import { sendError } from './http-errors.js';
import { closeAfterLingering } from './lingering-close.js';
import { MultipartRequestError, readGraphQLMultipart } from './multipart-reader.js';
import { rootPlugin } from './root-plugin.js';
import { uploadAdmission } from './upload-admission.js';

const MULTIPART = 'multipart/form-data';

export interface MultipartOptions {
  /** Largest file, in bytes (`PHOTO_MAX_UPLOAD_BYTES`). */
  maxFileBytes: number;
}

/**
 * Uploads: GraphQL multipart requests (multipart-reader.ts) as a Fastify body parser for
 * `multipart/form-data`, their file read into memory within `maxFileBytes`. The request was
 * admitted from its headers first (upload-admission.ts): it has a place in the photo queue and a
 * Content-Length, which bounds the file. What the parser refuses is answered GraphQL-shaped by the
 * error handler added here; every other error as Fastify answers it. On the root: a multipart
 * body sent to any other route is refused by the same parser, and answered GraphQL-shaped too.
 *
 * Why a body parser over busboy rather than a plugin around it: it runs for multipart requests
 * only. `@fastify/multipart` adds two hooks and a listener to every request, JSON mutations
 * included; `graphql-upload` writes every file to a temporary file.
 */
export const multipartPlugin = rootPlugin(
  'gateway-multipart',
  ((app, { maxFileBytes }, done) => {
    app.addContentTypeParser(MULTIPART, (request, payload, done) => {
      const admission = uploadAdmission(request.raw);
      // Only GraphQL requests are admitted; a multipart body anywhere else has no business here.
      if (!admission) return done(new MultipartRequestError(400, GatewayErrorCode.BAD_REQUEST, 'multipart/form-data is accepted on the GraphQL endpoint only.'));
      readGraphQLMultipart(payload as IncomingMessage, request.headers, maxFileBytes, admission.contentLength).then(
        (body) => done(null, body),
        (error: Error) => done(error),
      );
    });
    app.setErrorHandler((error, _request, reply) => {
      if (!answerMultipartError(error, reply)) throw error;
    });
    done();
  }) satisfies FastifyPluginCallback<MultipartOptions>,
);

/** Answers a `MultipartRequestError` GraphQL-shaped; `false` for any other error. */
function answerMultipartError(error: unknown, reply: FastifyReply): boolean {
  if (!(error instanceof MultipartRequestError)) return false;
  // The body was not read to its end: this connection cannot carry another request. What the
  // client still sends is read and dropped for a while, so that it sees this answer, not a reset.
  void reply.header('connection', 'close');
  closeAfterLingering(reply.request.raw);
  sendError(reply, error.statusCode, error.code, error.message);
  return true;
}
