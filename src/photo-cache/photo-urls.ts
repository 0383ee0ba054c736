import { createHmac, timingSafeEqual } from 'node:crypto';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { PhotoValue } from '../graph/photo-value.js';
import { detectImageFormat, type ImageFormat } from '../photos/image-format.js';
import { contentHash, mailboxTag } from './cache-keys.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import type { PhotoCacheStore } from './photo-cache-store.js';

/** Where the gateway serves pictures by URL (server/http/photo-route.ts). */
export const PHOTO_URL_PREFIX = '/photos';

const EXTENSIONS: Readonly<Record<ImageFormat, string>> = { jpeg: 'jpg', png: 'png', gif: 'gif', webp: 'webp', avif: 'avif', heic: 'heic' };

/** `<tag>/<hash>.<ext>` as a URL names it: a mailbox tag, a SHA-256 in base64url, an image extension. */
const FILE = /^([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})\.(jpg|png|gif|webp|avif|heic)$/;

/** A picture a URL names, as the route serves it. */
export interface ServedPicture {
  bytes: Buffer;
  /** The format of the bytes, told from them (never from Graph's header). */
  format: ImageFormat;
  /** The content hash: the picture's ETag. */
  hash: string;
  /** When the URL stops being valid (epoch ms). */
  expiresAt: number;
}

/**
 * `ProfilePhoto.url`: a picture named by its content hash, at
 * `/photos/<mailbox tag>/<hash>.<ext>?exp=<epoch ms>&sig=<HMAC-SHA256>`, kept in the cache's store
 * until the URL expires. `exp` moves in steps of half the lifetime, so the same picture keeps
 * the same URL for a while (the browser's cache then answers it) and a URL is valid for between
 * half and the whole of `PHOTO_URL_TTL_S`. A changed picture has another hash, so another URL.
 */
export class PhotoUrls {
  readonly #secret: Buffer | undefined;
  readonly #ttlMs: number;
  readonly #store: PhotoCacheStore;

  /** `secret` undefined: the URLs are refused (production without `PHOTO_URL_SECRET`). */
  constructor(secret: Buffer | undefined, ttlS: number, store: PhotoCacheStore) {
    this.#secret = secret;
    this.#ttlMs = ttlS * 1000;
    this.#store = store;
  }

  /** The URL of `picture` (bytes of the contact's photo, as read for this caller), its bytes stored for it. */
  async urlFor(invitationId: string, picture: PhotoValue): Promise<string> {
    if (this.#secret === undefined) {
      throw new GatewayError(GatewayErrorCode.INTERNAL_SERVER_ERROR, 'Picture URLs are off: PHOTO_URL_SECRET is not set (required in production).');
    }
    const tag = mailboxTag(invitationId);
    const hash = contentHash(picture.bytes);
    const step = Math.max(1, Math.floor(this.#ttlMs / 2));
    const exp = (Math.floor(Date.now() / step) + 2) * step;
    const file = `${tag}/${hash}.${EXTENSIONS[picture.format]}`;
    // Stored again each time, its lifetime renewed: an entry pushed out of the process's cache
    // to make room is back as soon as its URL is given again.
    const entry = encodeEntry({ kind: 'bytes', freshUntil: exp, bytes: picture.bytes, format: picture.format });
    await this.#store.set(tag, blobKey(hash), entry, exp - Date.now() + 1000);
    return `${PHOTO_URL_PREFIX}/${file}?exp=${exp}&sig=${this.signature(file, exp)}`;
  }

  /**
   * The picture a URL names when its signature is this gateway's and it has not expired, and its
   * bytes are still kept; `undefined` otherwise (the route's 404). Nothing is read from Graph.
   */
  async picture(file: string, exp: string | undefined, sig: string | undefined, now = Date.now()): Promise<ServedPicture | undefined> {
    const match = FILE.exec(file);
    if (!match || this.#secret === undefined || exp === undefined || sig === undefined || !/^\d{1,15}$/.test(exp)) return undefined;
    const expiresAt = Number(exp);
    if (expiresAt <= now || !this.signed(file, expiresAt, sig)) return undefined;
    const [, tag, hash] = match as unknown as [string, string, string];
    const stored = await this.#store.get(tag, blobKey(hash));
    const entry = stored && decodeEntry(stored);
    if (entry?.kind !== 'bytes') return undefined;
    const format = detectImageFormat(entry.bytes);
    return format && { bytes: entry.bytes, format, hash, expiresAt };
  }

  private signature(file: string, exp: number): string {
    return createHmac('sha256', this.#secret!).update(`${file}\n${exp}`).digest('base64url');
  }

  /** Compared in constant time: a signature is not guessed a character at a time. */
  private signed(file: string, exp: number, sig: string): boolean {
    const expected = Buffer.from(this.signature(file, exp));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function blobKey(hash: string): string {
  return `blob:${hash}`;
}
