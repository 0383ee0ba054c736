import type { PhotoValue } from '../graph/photo-value.js';
import type { GraphProfilePhoto } from '../graph/types.js';
import { MEDIA_TYPES, type ImageFormat } from '../photos/image-format.js';

/**
 * What the cache keeps under a key, until `freshUntil` (epoch ms) and, for a picture with a
 * version, a while after it to be revalidated: a photo's metadata (or `null`, no photo), its
 * picture (or `null`), or bytes of a picture (a thumbnail, or what a picture URL names).
 */
export type CacheEntry =
  | { kind: 'metadata'; freshUntil: number; photo: GraphProfilePhoto | null }
  | { kind: 'value'; freshUntil: number; value: PhotoValue | null }
  | { kind: 'bytes'; freshUntil: number; bytes: Buffer; format: ImageFormat };

interface Header {
  k: 'm' | 'v' | 'b';
  f: number;
  p?: GraphProfilePhoto | null;
  /** The picture's format; absent for a `null` picture. */
  t?: ImageFormat;
  e?: string;
}

/**
 * An entry as stored (the same in process and in Redis): a line of JSON, then the picture's bytes
 * as they are (no base64, which would add a third).
 */
export function encodeEntry(entry: CacheEntry): Buffer {
  let header: Header;
  let bytes: Buffer | undefined;
  if (entry.kind === 'metadata') header = { k: 'm', f: entry.freshUntil, p: entry.photo };
  else if (entry.kind === 'bytes') [header, bytes] = [{ k: 'b', f: entry.freshUntil, t: entry.format }, entry.bytes];
  else {
    header = { k: 'v', f: entry.freshUntil, ...(entry.value && { t: entry.value.format }), ...(entry.value?.etag && { e: entry.value.etag }) };
    bytes = entry.value?.bytes;
  }
  const line = Buffer.from(`${JSON.stringify(header)}\n`);
  return bytes ? Buffer.concat([line, bytes]) : line;
}

/** The entry, or `undefined` for anything else (a partial write, another version's format). */
export function decodeEntry(stored: Buffer): CacheEntry | undefined {
  const end = stored.indexOf(0x0a);
  if (end < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(stored.subarray(0, end).toString('utf8')) as Header;
  } catch {
    return undefined;
  }
  if (typeof header.f !== 'number') return undefined;
  const bytes = stored.subarray(end + 1);
  const format = header.t !== undefined && Object.hasOwn(MEDIA_TYPES, header.t) ? header.t : undefined;
  switch (header.k) {
    case 'm':
      return header.p === undefined ? undefined : { kind: 'metadata', freshUntil: header.f, photo: header.p };
    case 'b':
      return format && { kind: 'bytes', freshUntil: header.f, bytes, format };
    case 'v':
      if (!format) return { kind: 'value', freshUntil: header.f, value: null };
      return { kind: 'value', freshUntil: header.f, value: { bytes, contentType: MEDIA_TYPES[format], format, ...(header.e && { etag: header.e }) } };
    default:
      return undefined;
  }
}
