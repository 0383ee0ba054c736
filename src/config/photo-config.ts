import { ConfigError } from './config-error.js';
import { integer, type Env } from './env-values.js';
import { defaultPhotoConcurrency, threadPoolSize } from './photo-concurrency.cjs';

/** Uploaded photos: what is accepted, and how they are made into Outlook's JPEG. */
export interface PhotoConfig {
  /** Largest uploaded file, in bytes (`PHOTO_MAX_UPLOAD_BYTES`); past it HTTP 413, PAYLOAD_TOO_LARGE. */
  maxUploadBytes: number;
  /** Largest image, in pixels, read from its header before decoding (`PHOTO_MAX_PIXELS`). */
  maxPixels: number;
  /** Longest side of the JPEG sent to Graph (`PHOTO_MAX_SIDE`). */
  maxSide: number;
  /** Images processed at once (`PHOTO_CONCURRENCY`); below libuv's thread pool size. */
  concurrency: number;
  /** Images admitted beyond those, waiting for a turn (`PHOTO_QUEUE`); past it, TOO_MANY_REQUESTS. */
  queue: number;
  /** Wall time one image may take once its turn has come (`PHOTO_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Announced bytes of the uploads admitted at once, at most (`PHOTO_UPLOAD_BUDGET_BYTES`); past it, 503. */
  uploadBudgetBytes: number;
  /** Time an admitted upload has to send its whole body (`PHOTO_UPLOAD_TIMEOUT_MS`), at most the request timeout. */
  uploadTimeoutMs: number;
}

/** `requestTimeoutMs` is `HTTP_REQUEST_TIMEOUT_MS` as the server settings read it: an upload's body never gets longer. */
export function photoConfig(env: Env, requestTimeoutMs: number): PhotoConfig {
  return {
    maxUploadBytes: integer(env, 'PHOTO_MAX_UPLOAD_BYTES', 20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxPixels: integer(env, 'PHOTO_MAX_PIXELS', 50_000_000, 1, 268_402_689),
    maxSide: integer(env, 'PHOTO_MAX_SIDE', 648, 1, 16_384),
    concurrency: photoConcurrency(env),
    queue: integer(env, 'PHOTO_QUEUE', 8, 0, 10_000),
    timeoutMs: integer(env, 'PHOTO_TIMEOUT_MS', 10_000, 100, 600_000),
    uploadBudgetBytes: integer(env, 'PHOTO_UPLOAD_BUDGET_BYTES', 256 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    uploadTimeoutMs: Math.min(integer(env, 'PHOTO_UPLOAD_TIMEOUT_MS', 20_000, 100, 600_000), requestTimeoutMs),
  };
}

/**
 * sharp takes one thread of libuv's pool per image at work, and dns.lookup needs one for every
 * Graph call's host name: images may never take them all. The default leaves two free; an explicit
 * value must leave one.
 */
function photoConcurrency(env: Env): number {
  const pool = threadPoolSize(env);
  const concurrency = integer(env, 'PHOTO_CONCURRENCY', defaultPhotoConcurrency(pool), 1, 64);
  if (concurrency >= pool) {
    throw new ConfigError(
      'PHOTO_CONCURRENCY',
      `must be below libuv's thread pool size (${pool}), so that image work leaves threads for DNS look-ups; ` +
        'start the gateway with npm start (which sizes the pool) or set UV_THREADPOOL_SIZE',
      String(concurrency),
    );
  }
  return concurrency;
}
