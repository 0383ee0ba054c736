import { ConfigError } from './config-error.js';
import { integer, raw, type Env } from './env-values.js';

/** The per-caller photo cache and the signed picture URLs (docs/photos.md). */
export interface PhotoCacheConfig {
  /** How long a photo read answers from the cache (`PHOTO_CACHE_TTL_S`), in seconds; 0: no cache. */
  ttlS: number;
  /**
   * How long a page of a caller's contact list answers from the cache (`CONTACT_LIST_CACHE_TTL_S`),
   * in seconds; 0: the list is read from Graph every time. At most `ttlS` (0 there turns both off).
   */
  listTtlS: number;
  /** The bytes the cache holds in this process, at most (`PHOTO_CACHE_MAX_BYTES`): least recently used out. */
  maxBytes: number;
  /**
   * The key `ProfilePhoto.url`'s signatures are made with (`PHOTO_URL_SECRET`), the same on every
   * replica. Unset: each process makes its own outside production (the demo, tests); in production
   * the field then answers an error, as a key per process would break every URL another replica
   * or a restart serves.
   */
  urlSecret: string | undefined;
  /** How long a picture URL is valid (`PHOTO_URL_TTL_S`), in seconds. */
  urlTtlS: number;
}

/** A week: longer would keep a picture in browsers' caches long after the contact changed. */
const WEEK_S = 7 * 24 * 3600;

/** An HMAC-SHA256 key shorter than this is guessable faster than the hash is broken. */
const MIN_SECRET_LENGTH = 32;

/**
 * A minute: a contact added or renamed in Outlook shows within it, and a page of the list is one
 * cheap call next to the pictures.
 */
const LIST_TTL_S = 60;

export function photoCacheConfig(env: Env): PhotoCacheConfig {
  const ttlS = integer(env, 'PHOTO_CACHE_TTL_S', 600, 0, WEEK_S);
  return {
    ttlS,
    listTtlS: listTtlS(env, ttlS),
    maxBytes: integer(env, 'PHOTO_CACHE_MAX_BYTES', 256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
    urlSecret: urlSecret(env),
    urlTtlS: integer(env, 'PHOTO_URL_TTL_S', 3600, 1, WEEK_S),
  };
}

/**
 * The list's lifetime: never longer than the photos' (a list fresher than its pictures is what a
 * screen wants; one kept longer would be the odd setting out). The default follows a shorter
 * `PHOTO_CACHE_TTL_S` down, and `PHOTO_CACHE_TTL_S=0` turns the list's cache off too; a value
 * set above a non-zero `PHOTO_CACHE_TTL_S` is refused rather than silently lowered.
 */
function listTtlS(env: Env, photoTtlS: number): number {
  const value = integer(env, 'CONTACT_LIST_CACHE_TTL_S', LIST_TTL_S, 0, WEEK_S);
  if (photoTtlS === 0) return 0;
  if (raw(env, 'CONTACT_LIST_CACHE_TTL_S') === undefined) return Math.min(value, photoTtlS);
  if (value > photoTtlS) throw new ConfigError('CONTACT_LIST_CACHE_TTL_S', `must be at most PHOTO_CACHE_TTL_S (${photoTtlS})`, String(value));
  return value;
}

/** A key, never repeated in an error. */
function urlSecret(env: Env): string | undefined {
  const value = raw(env, 'PHOTO_URL_SECRET');
  if (value === undefined) return undefined;
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError('PHOTO_URL_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`, '(hidden)');
  return value;
}
