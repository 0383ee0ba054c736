/**
 * The image formats the gateway accepts, told from the bytes themselves: a browser or Apollo
 * Sandbox may declare any file as `application/octet-stream`, and a declared type proves nothing.
 */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'heic';

/** The accepted formats, as named in error messages. */
export const ACCEPTED_FORMATS = 'JPEG, PNG, GIF, WebP, AVIF or HEIC/HEIF';

/** The media type of each format, for `data:` URLs. */
export const MEDIA_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
};

// ISO base media file brands (the `ftyp` box) of AVIF, and of HEIC/HEIF as phones write them.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1']);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/**
 * Brands read from an `ftyp` box at most. Phones and encoders write three to six; the box size
 * is the file's own claim, and a crafted 19 MB "box" would otherwise cost a string per 4 bytes on
 * the event loop before the file even waits for a turn.
 */
const MAX_BRANDS = 16;

/** The format of an ISO-BMFF file from its `ftyp` box: AVIF when any brand says so, else HEIF. */
function isoFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const claimed = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  // The major brand at 8, then the compatible brands after the minor version (bytes 12 to 15).
  const end = Math.min(bytes.length, claimed, 16 + 4 * MAX_BRANDS);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(bytes, offset, offset + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIF_BRANDS.has(brand))) return 'heic';
  return undefined;
}

/** The image format of `bytes` from their signature, or `undefined` when they are none of ours. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  return isoFormat(bytes);
}
