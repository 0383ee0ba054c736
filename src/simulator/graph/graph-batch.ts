/**
 * Graph's JSON batching as the simulator reads and answers it (docs/graph-behaviour.md, "JSON
 * batching"): the envelope's rules, each item made into a request the simulator's handlers take
 * like a direct one, and each item's answer written back into the envelope's 200.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { GraphHttpError, readJsonBody, VERSION_SEGMENT } from './graph-requests.js';

/** Graph's limit of requests in one batch. */
export const GRAPH_BATCH_LIMIT = 20;

/** One request of a batch, as the simulator runs it. */
export interface BatchItem {
  id: string;
  method: string;
  /** The item's URL made absolute to the server, as a direct request's target: `/beta/invitations/...`. */
  url: string;
  /** The item's own headers, lowercased. */
  headers: Record<string, string>;
  /** The item's body as bytes: JSON bodies serialised, other bodies decoded from base64. */
  bytes: Buffer;
}

/** What one request is answered: its status, headers and the bytes of its body. */
export interface SimAnswer {
  status: number;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Reads a `POST /$batch` body as Graph checks it; anything Graph refuses as a whole throws a
 * `GraphHttpError` (400): not JSON, no `requests` array, more than 20 requests, an item without
 * `id`, `method` or `url`, a duplicate `id`, an absolute URL or a nested batch, a body without a
 * `Content-Type` header, or `dependsOn` (Graph supports it; the gateway never sends it, and the
 * simulator does not run items in sequence).
 */
export function parseBatch(contentType: string | undefined, text: string): BatchItem[] {
  const parsed = readJsonBody(contentType, text);
  const requests = (parsed as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new GraphHttpError(400, 'BadRequest', 'The batch must have a non-empty "requests" array.');
  }
  if (requests.length > GRAPH_BATCH_LIMIT) {
    throw new GraphHttpError(400, 'BadRequest', `The batch has ${requests.length} requests; the limit is ${GRAPH_BATCH_LIMIT}.`);
  }
  const ids = new Set<string>();
  return requests.map((request: unknown) => {
    const item = (request ?? {}) as Record<string, unknown>;
    const { id, method, url } = item;
    if (typeof id !== 'string' || id === '' || typeof method !== 'string' || typeof url !== 'string') {
      throw new GraphHttpError(400, 'BadRequest', 'Each batch request needs a string id, method and url.');
    }
    if (ids.has(id)) throw new GraphHttpError(400, 'BadRequest', `The batch request id '${id}' is not unique.`);
    ids.add(id);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
      throw new GraphHttpError(400, 'BadRequest', `Batch request '${id}': the url must be relative to the version root, not absolute.`);
    }
    const relative = url.startsWith('/') ? url : `/${url}`;
    if (/^\/\$batch(\?|$)/.test(relative)) throw new GraphHttpError(400, 'BadRequest', 'Batches cannot be nested.');
    if (item['dependsOn'] !== undefined) throw new GraphHttpError(400, 'BadRequest', 'dependsOn is not simulated.');
    const headers = lowercased(item['headers']);
    let bytes = Buffer.alloc(0);
    if (item['body'] !== undefined) {
      const itemType = headers['content-type'];
      if (itemType === undefined) throw new GraphHttpError(400, 'BadRequest', `Batch request '${id}' has a body but no Content-Type header.`);
      const body = item['body'];
      if (itemType.toLowerCase().startsWith('application/json')) bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      else if (typeof body === 'string') bytes = Buffer.from(body, 'base64');
      else throw new GraphHttpError(400, 'BadRequest', `Batch request '${id}': a body that is not JSON must be a base64 string.`);
    }
    return { id, method: method.toUpperCase(), url: `/${VERSION_SEGMENT}${relative}`, headers, bytes };
  });
}

/** The request an item stands for, with the envelope's token (items carry none of their own). */
export function itemHeaders(item: BatchItem, envelope: IncomingHttpHeaders): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...item.headers };
  if (envelope.authorization !== undefined) headers.authorization = envelope.authorization;
  return headers;
}

/**
 * An item's entry in the batch's answer: headers as Graph names them (`Content-Type`), a JSON body
 * as JSON, any other body (a picture) as a standard base64 string, no body when there is none.
 */
export function batchResponse(id: string, answer: SimAnswer): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name === 'content-length' || name === 'client-request-id') continue;
    headers[name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase())] = value;
  }
  const entry: Record<string, unknown> = { id, status: answer.status, headers };
  if (answer.body.length === 0) return entry;
  const contentType = answer.headers['content-type']?.toLowerCase() ?? '';
  entry['body'] = contentType.startsWith('application/json') ? JSON.parse(answer.body.toString('utf8')) : answer.body.toString('base64');
  return entry;
}

/**
 * An item's headers by lowercased name, string values only. The gateway reads a batch answer's
 * headers the same way (`lowercased` in src/graph/graph-batch.ts): written twice on purpose, as
 * the simulator imports nothing of the gateway (ARCHITECTURE.md), so that a mistake of the
 * gateway's cannot pass for Graph's behaviour.
 */
function lowercased(headers: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return result;
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') result[name.toLowerCase()] = value;
  return result;
}
