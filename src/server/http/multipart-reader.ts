import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { GatewayErrorCode } from '../../errors/codes.js';
import { PhotoUpload } from '../../schema/upload.js';
import { fileTooLarge, MAX_FIELD_BYTES } from './upload-admission.js';

/**
 * The GraphQL multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec)
 * read with busboy (Fastify's own multipart parser): the fields `operations` (the GraphQL request
 * as JSON) and `map` (which variable the file goes to), then one file, read into memory and put
 * into the variables as a `PhotoUpload`. Apollo then sees an ordinary request. Nothing is written
 * to disk, so a killed process leaves nothing behind. The Fastify side is multipart.ts.
 */

const SPEC_FIELDS = 'A GraphQL multipart request has the fields operations and map, then one file.';

/**
 * A multipart request the gateway refuses while reading it: answered with its HTTP status and a
 * GraphQL-shaped error (see multipart.ts), before any GraphQL work or Graph call.
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

/**
 * Reads `operations`, `map` and the file of a GraphQL multipart request, in the spec's order, into
 * a GraphQL request object; refuses with a `MultipartRequestError`. The file is read into memory
 * within `maxFileBytes`, in one buffer no larger than the body's `contentLength`.
 */
export function readGraphQLMultipart(
  payload: IncomingMessage,
  headers: IncomingHttpHeaders,
  maxFileBytes: number,
  contentLength: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
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
    new MultipartReading(payload, busboy, { maxFileBytes, contentLength }, resolve, reject).start();
  });
}

/** One multipart body as busboy reads it: the fields, then the file, each checked as it comes. */
class MultipartReading {
  #operations: Record<string, unknown> | undefined;
  #map: Record<string, string[]> | undefined;
  #upload: Promise<PhotoUpload> | undefined;
  #failure: MultipartRequestError | undefined;

  constructor(
    private readonly payload: IncomingMessage,
    private readonly busboy: BusboyInstance,
    private readonly file: { maxFileBytes: number; contentLength: number },
    private readonly resolve: (operations: Record<string, unknown>) => void,
    private readonly reject: (error: MultipartRequestError) => void,
  ) {}

  start(): void {
    const { busboy, payload } = this;
    busboy.on('field', (name, value, _nameTruncated, valueTruncated) => this.#field(name, value, valueTruncated));
    busboy.on('file', (name, file, filename, _encoding, mimeType) => this.#file(name, file, filename, mimeType));
    busboy.on('filesLimit', () => this.#fail(badRequest('Send one file per request.')));
    busboy.on('fieldsLimit', () => this.#fail(badRequest(SPEC_FIELDS)));
    busboy.on('partsLimit', () => this.#fail(badRequest(SPEC_FIELDS)));
    busboy.on('error', () => this.#fail(badRequest('The multipart/form-data body is malformed.')));
    busboy.on('finish', () => this.#finish());
    payload.on('error', () => this.#fail(badRequest('The request was cut short.')));
    payload.pipe(busboy);
  }

  /**
   * The first problem is answered at once, without reading the rest of the body (which may be
   * the file): the answer closes the connection (multipart.ts). An arrow, as it is
   * passed as a callback.
   */
  readonly #fail = (error: MultipartRequestError): void => {
    if (this.#failure) return;
    this.#failure = error;
    this.payload.unpipe(this.busboy);
    this.reject(error);
  };

  #field(name: string, value: string, valueTruncated: boolean): void {
    if (this.#failure) return;
    if (valueTruncated) return this.#fail(badRequest(`The ${name} field is over ${MAX_FIELD_BYTES} bytes.`));
    try {
      if (name === 'operations' && this.#operations === undefined && this.#map === undefined) this.#operations = readOperations(value);
      else if (name === 'map' && this.#operations !== undefined && this.#map === undefined) this.#map = readMap(value);
      else this.#fail(badRequest('A GraphQL multipart request has the fields operations and map, in that order, then the file.'));
    } catch (error) {
      this.#fail(error as MultipartRequestError);
    }
  }

  #file(name: string, file: BusboyFileStream, filename: string, mimeType: string): void {
    if (this.#failure) return void file.resume();
    const operations = this.#operations;
    if (operations === undefined || this.#map === undefined) {
      this.#fail(badRequest('The operations and map fields must come before the file.'));
      return void file.resume();
    }
    const paths = this.#map[name];
    if (paths === undefined) {
      this.#fail(badRequest(`The file field "${name}" is not in the map.`));
      return void file.resume();
    }
    this.#upload = readFile(file, this.file.maxFileBytes, this.file.contentLength).then((bytes) => {
      const photo = new PhotoUpload(filename, mimeType, bytes);
      for (const path of paths) putAtPath(operations, path, photo);
      return photo;
    });
    this.#upload.catch(this.#fail);
  }

  /** The body is read: once the file is too, the request is whole, or a part was missing. */
  #finish(): void {
    void (this.#upload ?? Promise.resolve(undefined)).then(() => {
      if (this.#operations === undefined || this.#map === undefined) return this.#fail(badRequest('A GraphQL multipart request needs the fields operations and map.'));
      if (this.#upload === undefined) return this.#fail(badRequest('The map names a file that was not sent.'));
      if (!this.#failure) this.resolve(this.#operations);
    }, this.#fail);
  }
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
