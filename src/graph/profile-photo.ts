import type { GatewayError } from '../errors/gateway-error.js';
import { errorFromUnusableBody } from './error-mapping.js';
import type { GraphProfilePhoto, GraphResponse } from './types.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function readSize(body: Record<string, unknown>, name: 'height' | 'width'): number | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return value;
  return undefined;
}

/**
 * Reads a successful Graph answer as a `profilePhoto`, with `@odata.mediaEtag` when the body has
 * a string one (the photo cache revalidates a picture by it); other OData annotations are dropped. A body that is not JSON, has no string `id`, or has
 * sizes that are not Int32 is Graph's fault, answered as BAD_GATEWAY.
 */
export function parseProfilePhoto(response: GraphResponse): GraphProfilePhoto | GatewayError {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return errorFromUnusableBody(response, response.body.length === 0 ? 'an empty body' : 'a body that is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return errorFromUnusableBody(response, 'JSON that is not an object');
  }
  const record = body as Record<string, unknown>;
  const id = record['id'];
  if (typeof id !== 'string' || id.length === 0) return errorFromUnusableBody(response, 'a photo without an id');
  const height = readSize(record, 'height');
  const width = readSize(record, 'width');
  if (height === undefined || width === undefined) {
    return errorFromUnusableBody(response, 'a photo whose height or width is not a 32-bit integer');
  }
  const mediaEtag = record['@odata.mediaEtag'];
  return typeof mediaEtag === 'string' && mediaEtag.length > 0 ? { id, height, width, mediaEtag } : { id, height, width };
}
