/**
 * Graph's JSON batching on the wire (docs: docs/graph-behaviour.md, "JSON batching"): a batch's
 * body from the requests it carries, and its answer turned back into one `GraphResponse` per
 * request, so that each item goes through the same parsers and error mapping as a direct call.
 */
import type { GatewayError } from '../errors/gateway-error.js';
import { errorFromUnusableBody } from './error-mapping.js';
import type { GraphResponse } from './types.js';

/** Graph's limit of requests in one `POST /$batch`. */
export const GRAPH_BATCH_LIMIT = 20;

/** The path of the batch endpoint, relative to the version root. */
export const BATCH_PATH = '/$batch';

/** One request of a batch: no headers of its own (the envelope carries the token) and no body (reads only). */
export interface BatchItemRequest {
  /** Unique in the batch; its answer is found by it. */
  id: string;
  method: string;
  /** Relative to the version root, as a direct call's path: `/invitations/...`. */
  path: string;
  /** The item's 2xx body is bytes (a picture), sent back base64. */
  binary: boolean;
}

/** The body of `POST /$batch` for these requests. */
export function batchRequestBody(items: readonly BatchItemRequest[]): string {
  return JSON.stringify({ requests: items.map(({ id, method, path }) => ({ id, method, url: path })) });
}

/**
 * Reads a batch's 200: each item's answer by id, as a `GraphResponse` (headers lowercased,
 * whatever case Graph sent; a binary item's 2xx body decoded from base64, standard or URL-safe;
 * a JSON body as its text). A body that is not a batch answer at all is Graph's fault, for
 * every item alike; an item the answer lacks is missing from the map.
 */
export function parseBatchAnswer(response: GraphResponse, items: readonly BatchItemRequest[]): Map<string, GraphResponse> | GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return errorFromUnusableBody(response, 'a batch answer that is not JSON');
  }
  const responses = (parsed as { responses?: unknown } | null)?.responses;
  if (!Array.isArray(responses)) return errorFromUnusableBody(response, 'a batch answer without a "responses" array');
  const binary = new Map(items.map((item) => [item.id, item.binary]));
  const answers = new Map<string, GraphResponse>();
  for (const entry of responses as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { id, status, headers, body } = entry as Record<string, unknown>;
    // An id the batch did not send, or one answered twice, is ignored: its request keeps the first answer, or has none.
    if (typeof id !== 'string' || !binary.has(id) || answers.has(id)) continue;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) continue;
    const itemHeaders = lowercased(headers);
    if (binary.get(id) && status >= 200 && status <= 299) {
      // Node's base64 decoder takes the URL-safe alphabet too; anything not a string is no picture.
      answers.set(id, { status, headers: itemHeaders, body: '', bytes: typeof body === 'string' ? Buffer.from(body, 'base64') : Buffer.alloc(0) });
    } else {
      answers.set(id, { status, headers: itemHeaders, body: body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body) });
    }
  }
  return answers;
}

function lowercased(headers: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return result;
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') result[name.toLowerCase()] = value;
  return result;
}
