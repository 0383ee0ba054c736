import type { GatewayError } from '../errors/gateway-error.js';
import { detectImageFormat, MEDIA_TYPES, type ImageFormat } from '../photos/image-format.js';
import { errorFromUnusableBody } from './error-mapping.js';
import type { GraphResponse } from './types.js';

/** A contact's photo as Graph serves it from `photo/$value`. */
export interface PhotoValue {
  bytes: Buffer;
  /** The media type of `format`: what the bytes are, whatever Graph's header said. */
  contentType: string;
  /** The format the bytes are in. */
  format: ImageFormat;
  /** The answer's `ETag`, when Graph sent one: the picture's version, as the metadata's `@odata.mediaEtag`. */
  etag?: string;
}

/**
 * Reads a successful `photo/$value` answer. Its content type must be an image type (a specific
 * one, or the generic `image/*`) and its bytes an image of a known format: anything else (a
 * proxy's HTML page, an empty body) is Graph's fault, answered as BAD_GATEWAY, and must never
 * reach a frontend as a `data:` URL. The photo is labelled with the type its bytes are, not the
 * header's: a PNG served as `image/jpeg` is still a PNG to the browser that shows it.
 */
export function parsePhotoValue(response: GraphResponse): PhotoValue | GatewayError {
  const header = response.headers['content-type'];
  const contentType = (Array.isArray(header) ? header[0] : header)?.split(';')[0]?.trim().toLowerCase() ?? '';
  const bytes = response.bytes ?? Buffer.alloc(0);
  if (!/^image\/([a-z0-9.+-]+|\*)$/.test(contentType)) {
    return errorFromUnusableBody(response, `a photo whose Content-Type is ${contentType === '' ? 'missing' : `"${contentType}"`}, not an image type`);
  }
  const format = detectImageFormat(bytes);
  if (format === undefined) {
    return errorFromUnusableBody(response, bytes.length === 0 ? 'an empty photo' : 'photo bytes that are not an image');
  }
  const etag = response.headers['etag'];
  const version = Array.isArray(etag) ? etag[0] : etag;
  return { bytes, contentType: MEDIA_TYPES[format], format, ...(version && { etag: version }) };
}
