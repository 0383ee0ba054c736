import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../errors/codes.js';
import { PhotoUpload } from '../schema/upload.js';
import { sendError } from './http-errors.js';
import { closeAfterLingering } from './lingering-close.js';
import { fileTooLarge, MAX_FIELD_BYTES, uploadAdmission } from './upload-admission.js';

/**
 * The GraphQL multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec)
 * as a Fastify body parser for `multipart/form-data`: the fields `operations` (the GraphQL request
 * as JSON) and `map` (which variable the file goes to), then one file, read into memory within
 * `maxFileBytes` and put into the variables as a `PhotoUpload`. Apollo then sees an ordinary
 * request. Nothing is written to disk, so a killed process leaves nothing behind. The request was
 * admitted from its headers first (upload-admission.ts): it has a place in the photo queue and a
 * Content-Length, which bounds the file, so the file is read into one buffer of that size at most.
 *
 * Why a body parser over busboy (Fastify's own multipart parser) rather than a plugin around it:
 * it runs for multipart requests only. `@fastify/multipart` adds two hooks and a listener to
 * every request, JSON mutations included; `graphql-upload` writes every file to a temporary file.
 */

const MULTIPART = 'multipart/form-data';
const SPEC_FIELDS = 'A GraphQL multipart request has the fields operations and map, then one file.';

export interface MultipartOptions {
  /** Largest file, in bytes (`PHOTO_MAX_UPLOAD_BYTES`). */
  maxFileBytes: number;
}

/**
 * A multipart request the gateway refuses while reading it: answered with its HTTP status and a
 * GraphQL-shaped error (see `answerMultipartError`), before any GraphQL work or Graph call.
 */
export class MultipartRequestError extends Error {
  constructor(
    readonly statusCode: 400 | 413,
    readonly code: GatewayErrorCode.BAD_REQUEST | GatewayErrorCode.PAYLOAD_TOO_LARGE,
    message: string,
  ) {
    super(message);
    this.name = 'MultipartRequestError';
  }
}

function badRequest(message: string): MultipartRequestError {
  return new MultipartRequestError(400, GatewayErrorCode.BAD_REQUEST, message);
}

/** Adds the `multipart/form-data` body parser. */
export function addMultipartParser(app: FastifyInstance, options: MultipartOptions): void {
  app.addContentTypeParser(MULTIPART, (request, payload, done) => {
    const admission = uploadAdmission(request.raw);
    // Only GraphQL requests are admitted; a multipart body anywhere else has no business here.
    if (!admission) return done(new MultipartRequestError(400, GatewayErrorCode.BAD_REQUEST, 'multipart/form-data is accepted on the GraphQL endpoint only.'));
    readGraphQLMultipart(payload as IncomingMessage, request.headers, options.maxFileBytes, admission.contentLength).then(
      (body) => done(null, body),
      (error: Error) => done(error),
    );
  });
}

/** For the app's error handler: answers a `MultipartRequestError` GraphQL-shaped; `false` for any other error. */
export function answerMultipartError(error: unknown, reply: FastifyReply): boolean {
  if (!(error instanceof MultipartRequestError)) return false;
  // The body was not read to its end: this connection cannot carry another request. What the
  // client still sends is read and dropped for a while, so that it sees this answer, not a reset.
  void reply.header('connection', 'close');
  closeAfterLingering(reply.request.raw);
  sendError(reply, error.statusCode, error.code, error.message);
  return true;
}

/** Reads `operations`, `map` and the file, in the spec's order, into a GraphQL request object. */
function readGraphQLMultipart(
  payload: IncomingMessage,
  headers: FastifyRequest['headers'],
  maxFileBytes: number,
  contentLength: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let operations: Record<string, unknown> | undefined;
    let map: Record<string, string[]> | undefined;
    let upload: Promise<PhotoUpload> | undefined;
    let failure: MultipartRequestError | undefined;
    // The first problem is answered at once, without reading the rest of the body (which may be
    // the file): the answer closes the connection (see answerMultipartError).
    const fail = (error: MultipartRequestError): void => {
      if (failure) return;
      failure = error;
      payload.unpipe(busboy);
      reject(error);
    };
    let busboy: BusboyInstance;
    try {
      busboy = new Busboy({
        headers: headers as { 'content-type': string },
        // parts: one more than the 3 expected, so that a second file is told as such (filesLimit)
        // rather than as a part too many.
        limits: { fileSize: maxFileBytes, files: 1, fields: 2, parts: 4, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 },
      });
    } catch {
      reject(badRequest('The multipart/form-data body is malformed (no boundary).'));
      return;
    }
    busboy.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (failure) return;
      if (valueTruncated) return fail(badRequest(`The ${name} field is over ${MAX_FIELD_BYTES} bytes.`));
      try {
        if (name === 'operations' && operations === undefined && map === undefined) operations = readOperations(value);
        else if (name === 'map' && operations !== undefined && map === undefined) map = readMap(value);
        else fail(badRequest('A GraphQL multipart request has the fields operations and map, in that order, then the file.'));
      } catch (error) {
        fail(error as MultipartRequestError);
      }
    });
    busboy.on('file', (name, file, filename, _encoding, mimeType) => {
      if (failure) return void file.resume();
      if (operations === undefined || map === undefined) {
        fail(badRequest('The operations and map fields must come before the file.'));
        return void file.resume();
      }
      const paths = map[name];
      if (paths === undefined) {
        fail(badRequest(`The file field "${name}" is not in the map.`));
        return void file.resume();
      }
      const target = operations;
      upload = readFile(file, maxFileBytes, contentLength).then((bytes) => {
        const photo = new PhotoUpload(filename, mimeType, bytes);
        for (const path of paths) putAtPath(target, path, photo);
        return photo;
      });
      upload.catch(fail);
    });
    busboy.on('filesLimit', () => fail(badRequest('Send one file per request.')));
    busboy.on('fieldsLimit', () => fail(badRequest(SPEC_FIELDS)));
    busboy.on('partsLimit', () => fail(badRequest(SPEC_FIELDS)));
    busboy.on('error', () => fail(badRequest('The multipart/form-data body is malformed.')));
    busboy.on('finish', () => {
      void (upload ?? Promise.resolve(undefined)).then(() => {
        if (operations === undefined || map === undefined) return fail(badRequest('A GraphQL multipart request needs the fields operations and map.'));
        if (upload === undefined) return fail(badRequest('The map names a file that was not sent.'));
        if (!failure) resolve(operations);
      }, fail);
    });
    payload.on('error', () => fail(badRequest('The request was cut short.')));
    payload.pipe(busboy);
  });
}

/**
 * The file's bytes, or PAYLOAD_TOO_LARGE as soon as it passes `maxFileBytes` (busboy stops there).
 * They are copied into one buffer as they come, allocated once: the file is no larger than the
 * body's Content-Length, so no second copy (a list of chunks, then their concatenation) is made.
 */
function readFile(file: BusboyFileStream, maxFileBytes: number, contentLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffer: Buffer | undefined;
    let size = 0;
    file.on('data', (chunk: Buffer) => {
      buffer ??= Buffer.allocUnsafe(Math.min(contentLength, maxFileBytes));
      // busboy never gives more than the limit, and the body never more than its length.
      size += chunk.copy(buffer, size);
    });
    file.once('limit', () => {
      buffer = undefined;
      reject(new MultipartRequestError(413, GatewayErrorCode.PAYLOAD_TOO_LARGE, fileTooLarge(maxFileBytes)));
    });
    file.once('end', () => {
      if (!file.truncated) resolve(buffer === undefined ? Buffer.alloc(0) : buffer.subarray(0, size));
    });
    file.once('error', () => reject(badRequest('The request was cut short.')));
  });
}

function parseJson(field: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`The ${field} field is not valid JSON.`);
  }
}

function readOperations(value: string): Record<string, unknown> {
  const operations = parseJson('operations', value);
  if (Array.isArray(operations)) throw badRequest('Operation batching is not supported by this gateway.');
  if (typeof operations !== 'object' || operations === null) throw badRequest('The operations field must be a GraphQL request object.');
  return operations as Record<string, unknown>;
}

function readMap(value: string): Record<string, string[]> {
  const map = parseJson('map', value);
  const entries = typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.entries(map) : [];
  const valid =
    entries.length === 1 &&
    entries.every(([, paths]) => Array.isArray(paths) && paths.length > 0 && paths.every((path) => typeof path === 'string'));
  if (!valid) throw badRequest('The map field must map one file to the variables it fills, e.g. {"0": ["variables.file"]}.');
  return map as Record<string, string[]>;
}

/** Puts `upload` at a path such as `variables.file` of `operations`, where `null` stands for it. */
function putAtPath(operations: Record<string, unknown>, path: string, upload: PhotoUpload): void {
  const keys = path.split('.');
  if (keys[0] !== 'variables' || keys.length < 2 || keys.some((key) => key === '' || key in Object.prototype)) {
    throw badRequest(`The map path "${path}" must point into the variables, e.g. "variables.file".`);
  }
  let target: unknown = operations;
  for (const key of keys.slice(0, -1)) {
    target = (target as Record<string, unknown> | undefined)?.[key];
    if (typeof target !== 'object' || target === null) throw badRequest(`The map path "${path}" is not in the operations.`);
  }
  const last = keys[keys.length - 1]!;
  const holder = target as Record<string, unknown>;
  if (holder[last] !== null) throw badRequest(`The map path "${path}" must point at a null in the operations.`);
  holder[last] = upload;
}
