import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../errors/codes.js';
import { PhotoUpload } from '../schema/upload.js';
import { sendError } from './http-errors.js';

/**
 * The GraphQL multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec)
 * on top of `@fastify/multipart`: a `multipart/form-data` POST whose fields are `operations` (the
 * GraphQL request as JSON), `map` (which variable each file goes to) and then the file. The file
 * is read into memory within `maxFileBytes` (never to disk: a killed process leaves nothing
 * behind) and put into the variables as a `PhotoUpload`; Apollo then sees an ordinary request.
 * `graphql-upload` was not taken: it writes every file to a temporary file.
 */

/** The JSON fields get the same limit as a JSON body. */
const MAX_FIELD_BYTES = 100 * 1024;

/** Apollo's CSRF prevention: a `multipart/form-data` request needs one of these headers. */
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name'] as const;

export interface MultipartOptions {
  /** The GraphQL endpoint's path: multipart requests elsewhere are not read. */
  path: string;
  /** Largest file, in bytes (`PHOTO_MAX_UPLOAD_BYTES`). */
  maxFileBytes: number;
}

export function isMultipart(request: FastifyRequest): boolean {
  return request.headers['content-type']?.toLowerCase().startsWith('multipart/form-data') === true;
}

/**
 * Apollo's CSRF check runs inside its handler, after the body is read: a multipart request
 * without a preflight header is refused here, from its headers alone, so that a cross-site form
 * cannot make the gateway read (and buffer) its file. Same answer as Apollo's.
 */
export function refuseMultipartWithoutPreflight(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isMultipart(request)) return false;
  if (PREFLIGHT_HEADERS.some((name) => (request.headers[name] ?? '') !== '')) return false;
  sendError(
    reply,
    400,
    GatewayErrorCode.BAD_REQUEST,
    'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). A multipart/form-data ' +
      'request must carry a non-empty apollo-require-preflight (or x-apollo-operation-name) header.',
  );
  return true;
}

/** A request that does not follow the spec: answered 400 before any GraphQL work. */
class MultipartRequestError extends Error {}

/** Registers the multipart parser and the hook that maps a multipart request onto `request.body`. */
export async function registerMultipart(app: FastifyInstance, options: MultipartOptions): Promise<void> {
  await app.register(multipart, {
    // The file's limit is set here: Fastify's bodyLimit does not reach multipart parsing, and
    // without it @fastify/multipart would take the JSON body limit (100 KiB) as the file's.
    limits: { fileSize: options.maxFileBytes, files: 1, fields: 2, parts: 3, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 },
    throwFileSizeLimit: true,
  });
  app.addHook('preValidation', async (request, reply) => {
    if (request.routeOptions.url !== options.path || !request.isMultipart()) return;
    try {
      request.body = await readGraphQLMultipart(request);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') {
        const limit = options.maxFileBytes;
        return sendError(reply, 413, GatewayErrorCode.PAYLOAD_TOO_LARGE, `The file is larger than the gateway accepts (${limit} bytes).`);
      }
      if (code === 'FST_FILES_LIMIT') return sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'Send one file per request.');
      if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
        return sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'A GraphQL multipart request has the fields operations and map, then one file.');
      }
      if (error instanceof MultipartRequestError) return sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, error.message);
      // busboy's own parse errors (a malformed body, a request cut short).
      if (typeof code === 'string' && code.startsWith('FST_')) {
        return sendError(reply, 400, GatewayErrorCode.BAD_REQUEST, 'The multipart/form-data body is malformed.');
      }
      throw error;
    }
  });
}

/** Reads `operations`, `map` and the file, in the spec's order, into a GraphQL request object. */
async function readGraphQLMultipart(request: FastifyRequest): Promise<Record<string, unknown>> {
  let operations: Record<string, unknown> | undefined;
  let map: Record<string, string[]> | undefined;
  let filesPut = 0;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.valueTruncated) throw new MultipartRequestError(`The ${part.fieldname} field is over ${MAX_FIELD_BYTES} bytes.`);
      if (part.fieldname === 'operations' && operations === undefined && map === undefined) operations = readOperations(part.value);
      else if (part.fieldname === 'map' && operations !== undefined && map === undefined) map = readMap(part.value);
      else throw new MultipartRequestError('A GraphQL multipart request has the fields operations and map, in that order, then the file.');
      continue;
    }
    if (operations === undefined || map === undefined) {
      throw new MultipartRequestError('The operations and map fields must come before the file.');
    }
    const paths = map[part.fieldname];
    if (paths === undefined) throw new MultipartRequestError(`The file field "${part.fieldname}" is not in the map.`);
    const bytes = await part.toBuffer();
    const upload = new PhotoUpload(part.filename, part.mimetype, bytes);
    for (const path of paths) putAtPath(operations, path, upload);
    filesPut++;
  }
  if (operations === undefined || map === undefined) {
    throw new MultipartRequestError('A GraphQL multipart request needs the fields operations and map.');
  }
  if (filesPut !== Object.keys(map).length) throw new MultipartRequestError('The map names a file that was not sent.');
  return operations;
}

function parseJson(field: string, value: unknown): unknown {
  if (typeof value !== 'string') throw new MultipartRequestError(`The ${field} field must be JSON text.`);
  try {
    return JSON.parse(value);
  } catch {
    throw new MultipartRequestError(`The ${field} field is not valid JSON.`);
  }
}

function readOperations(value: unknown): Record<string, unknown> {
  const operations = parseJson('operations', value);
  if (Array.isArray(operations)) throw new MultipartRequestError('Operation batching is not supported by this gateway.');
  if (typeof operations !== 'object' || operations === null) {
    throw new MultipartRequestError('The operations field must be a GraphQL request object.');
  }
  return operations as Record<string, unknown>;
}

function readMap(value: unknown): Record<string, string[]> {
  const map = parseJson('map', value);
  const entries = typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.entries(map) : [];
  const valid = entries.length === 1 && entries.every(([, paths]) => Array.isArray(paths) && paths.length > 0 && paths.every((path) => typeof path === 'string'));
  if (!valid) throw new MultipartRequestError('The map field must map one file to the variables it fills, e.g. {"0": ["variables.file"]}.');
  return map as Record<string, string[]>;
}

/** Puts `upload` at a path such as `variables.file` of `operations`, where `null` stands for it. */
function putAtPath(operations: Record<string, unknown>, path: string, upload: PhotoUpload): void {
  const keys = path.split('.');
  if (keys[0] !== 'variables' || keys.length < 2 || keys.some((key) => key === '' || key in Object.prototype)) {
    throw new MultipartRequestError(`The map path "${path}" must point into the variables, e.g. "variables.file".`);
  }
  let target: unknown = operations;
  for (const key of keys.slice(0, -1)) {
    target = (target as Record<string, unknown> | undefined)?.[key];
    if (typeof target !== 'object' || target === null) throw new MultipartRequestError(`The map path "${path}" is not in the operations.`);
  }
  const last = keys[keys.length - 1]!;
  const holder = target as Record<string, unknown>;
  if (holder[last] !== null) throw new MultipartRequestError(`The map path "${path}" must point at a null in the operations.`);
  holder[last] = upload;
}
