import { ConfigError } from './config-error.js';
import { integer, raw, type Env } from './env-values.js';

/** The per-caller photo cache and the signed picture URLs (docs/photos.md). */
export interface PhotoCacheConfig {
  /** How long a photo read answers from the cache (`PHOTO_CACHE_TTL_S`), in seconds; 0: no cache. */
  ttlS: number;
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

export function photoCacheConfig(env: Env): PhotoCacheConfig {
  return {
    ttlS: integer(env, 'PHOTO_CACHE_TTL_S', 600, 0, WEEK_S),
    maxBytes: integer(env, 'PHOTO_CACHE_MAX_BYTES', 256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
    urlSecret: urlSecret(env),
    urlTtlS: integer(env, 'PHOTO_URL_TTL_S', 3600, 1, WEEK_S),
  };
}

/** A key, never repeated in an error. */
function urlSecret(env: Env): string | undefined {
  const value = raw(env, 'PHOTO_URL_SECRET');
  if (value === undefined) return undefined;
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError('PHOTO_URL_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`, '(hidden)');
  return value;
}
