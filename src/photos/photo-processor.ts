import type { Metadata, OutputInfo, Sharp, SharpConstructor } from 'sharp';
import { GRAPH_MAX_PHOTO_BYTES } from '../limits/graph-photo-limits.js';
import { HeicDecoder } from './heic-decoder.js';
import { pngWithIccProfile } from './icc-png.js';
import { ACCEPTED_FORMATS, detectImageFormat, type ImageFormat } from './image-format.js';
import { PhotoQueue, type PhotoTicket } from './photo-queue.js';

export type { PhotoTicket } from './photo-queue.js';

export interface PhotoSettings {
  /** Longest side of an uploaded photo after normalising (`PHOTO_MAX_SIDE`; Outlook's largest is 648). */
  maxSide: number;
  /** Largest image accepted, in pixels, read from its header before decoding (`PHOTO_MAX_PIXELS`). */
  maxPixels: number;
  /** Images processed at once (`PHOTO_CONCURRENCY`). */
  concurrency: number;
  /** Images admitted beyond those, waiting for a turn (`PHOTO_QUEUE`); past it, refused. */
  queue: number;
  /** Wall time one image may take once its turn has come (`PHOTO_TIMEOUT_MS`). */
  timeoutMs: number;
}

/** A photo made into a clean JPEG. */
export interface NormalisedPhoto {
  jpeg: Buffer;
  /** The format the input was in, read from its bytes. */
  inputFormat: ImageFormat;
  width: number;
  height: number;
  /** Time spent working on it (not waiting for a turn). */
  seconds: number;
}

/** How a piece of image work is run. */
export interface PhotoWorkOptions {
  /**
   * A place in the queue taken earlier (an upload's, taken before its bytes were read, and given
   * back by its taker); else one is taken now, and given back when the image is done.
   */
  ticket?: PhotoTicket;
  /** Aborted when nobody wants the result any more (the caller left): the work stops with the signal's reason. */
  signal?: AbortSignal;
}

/** Why an image could not be used; the caller decides whose fault that is (the uploader's, or Graph's). */
export class UnusableImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableImageError';
  }
}

/** The image took longer than `PHOTO_TIMEOUT_MS` once its turn had come. */
export class PhotoTimeoutError extends UnusableImageError {
  constructor(timeoutMs: number) {
    super(`The image took longer than ${timeoutMs} ms to process: send a smaller image.`);
    this.name = 'PhotoTimeoutError';
  }
}

/** Every place in the photo queue is taken: `retryAfterS` is a fair guess of when one frees. */
export class PhotoQueueFullError extends Error {
  constructor(readonly retryAfterS: number) {
    super('The gateway is processing as many images as it holds; try again shortly.');
    this.name = 'PhotoQueueFullError';
  }
}

/**
 * The shortest side an uploaded photo may have: Outlook's smallest size. Graph also answers a
 * 1x1 photo's metadata as "no photo", so a smaller picture would look like none at all.
 */
export const MIN_PHOTO_SIDE = 48;

const JPEG_QUALITY = 85;
/** Qualities tried in turn when a JPEG is over Graph's 4 MB (only with a very large PHOTO_MAX_SIDE). */
const FALLBACK_QUALITIES = [70, 55, 40, 25];
const WHITE = { r: 255, g: 255, b: 255 };
const CORRUPT = `The image could not be decoded (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`;

/**
 * Turns whatever a phone or a browser uploads into the JPEG Outlook wants, and Graph's photo into
 * thumbnails: colours converted to sRGB from the image's own profile (an iPhone's Display P3, a
 * camera's Adobe RGB, a print shop's CMYK), EXIF orientation applied, transparency flattened onto
 * white, scaled down (never up) to fit a square of the given side, JPEG at quality 85, and no
 * metadata at all (EXIF, GPS, XMP, ICC: a photo's location must not travel to everyone who sees
 * the contact; an untagged image is sRGB to browsers and Outlook alike).
 *
 * Bounded in memory and time: the work runs on libuv's thread pool (sharp) or a worker pool
 * (HEIC), never on the event loop; at most `concurrency` images at once and `queue` more waiting
 * (see `PhotoQueue`); each image gets `timeoutMs` once its turn comes; an abort (the caller left)
 * stops the work between steps and ends a HEIC decode at once.
 */
export class PhotoProcessor {
  readonly #settings: PhotoSettings;
  readonly #queue: PhotoQueue;
  /**
   * sharp, loaded with the first image: libvips costs about 15 MiB of memory and start-up time
   * that a gateway which never sees an upload should not pay. Likewise the HEIC worker pool.
   */
  #sharp: Promise<SharpConstructor> | undefined;
  #heic: HeicDecoder | undefined;
  /** Seconds an image has taken of late (a moving average), for the `retryAfter` of a refusal. */
  #typicalSeconds = 0.5;

  constructor(settings: PhotoSettings) {
    this.#settings = settings;
    this.#queue = new PhotoQueue(settings.concurrency, settings.queue);
  }

  /** Images processed at once (`PHOTO_CONCURRENCY`). */
  get concurrency(): number {
    return this.#settings.concurrency;
  }

  /** Images admitted (being read, waiting or processed), waiting for a turn, and being processed. */
  get usage(): { admitted: number; waiting: number; active: number } {
    return this.#queue.usage;
  }

  /**
   * A place in the queue for an image about to be read (an upload, before its body is read).
   *
   * @throws PhotoQueueFullError when `concurrency + queue` images are admitted already.
   */
  admit(): PhotoTicket {
    const ticket = this.#queue.tryAdmit();
    if (ticket) return ticket;
    throw new PhotoQueueFullError(this.retryAfterS());
  }

  /** A fair guess, in whole seconds (at least 1), of when the images admitted now will be done. */
  retryAfterS(): number {
    const turnsAhead = Math.ceil(this.#queue.usage.admitted / this.#settings.concurrency);
    return Math.max(1, Math.ceil(turnsAhead * this.#typicalSeconds));
  }

  /**
   * An uploaded image as the JPEG to send to Graph, at most `PHOTO_MAX_SIDE` on its longer side.
   *
   * @throws UnusableImageError for an empty file, a format not accepted, too many pixels, a side
   * under 48 px, an image that does not decode (truncated, corrupt), or one that took too long
   * (PhotoTimeoutError); PhotoQueueFullError when no ticket was given and the queue is full; the
   * signal's reason once it is aborted.
   */
  normalise(bytes: Buffer, options: PhotoWorkOptions = {}): Promise<NormalisedPhoto> {
    return this.#process(bytes, this.#settings.maxSide, MIN_PHOTO_SIDE, options);
  }

  /** An image scaled down to fit `side` (never up), as JPEG, by the same pipeline as `normalise`. */
  resize(bytes: Buffer, side: number, options: PhotoWorkOptions = {}): Promise<NormalisedPhoto> {
    return this.#process(bytes, side, 1, options);
  }

  /** Ends the HEIC workers (at shutdown). */
  async close(): Promise<void> {
    await this.#heic?.close();
  }

  async #process(bytes: Buffer, side: number, minSide: number, options: PhotoWorkOptions): Promise<NormalisedPhoto> {
    // A ticket given by the caller is the caller's to give back (an upload's, at the end of its request).
    const own = options.ticket === undefined ? this.admit() : undefined;
    let stopped: Promise<unknown> = Promise.resolve();
    try {
      // What can be refused from the first bytes is refused before waiting for a turn.
      if (bytes.length === 0) throw new UnusableImageError(`The file is empty: send a ${ACCEPTED_FORMATS} image.`);
      const format = detectImageFormat(bytes);
      if (format === undefined) throw new UnusableImageError(`The file is not an image the gateway reads: send a ${ACCEPTED_FORMATS} image.`);
      const release = await this.#queue.turn(options.signal);
      const { timeoutMs } = this.#settings;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new PhotoTimeoutError(timeoutMs)), timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
      const work = this.#convert(bytes, format, side, minSide, signal);
      // The caller is answered at the time limit or its abort; the turn (and the ticket) are kept
      // until the work has really stopped (sharp's own timeout, in whole seconds, ends libvips; an
      // abort ends a HEIC worker), so that `concurrency` stays the true bound on CPU and memory.
      stopped = work.then(
        () => undefined,
        () => undefined,
      );
      void stopped.then(() => {
        clearTimeout(timer);
        release();
      });
      const photo = await Promise.race([work, rejectOnAbort(signal)]);
      this.#typicalSeconds = 0.8 * this.#typicalSeconds + 0.2 * photo.seconds;
      return photo;
    } finally {
      if (own) void stopped.then(() => own.release());
    }
  }

  async #convert(bytes: Buffer, format: ImageFormat, side: number, minSide: number, signal: AbortSignal): Promise<NormalisedPhoto> {
    const sharp = await (this.#sharp ??= import('sharp').then((module) => {
      // One libvips thread per image: PHOTO_CONCURRENCY is then the number of cores image work
      // takes, and the event loop keeps a core's share for the requests that do not wait on it
      // (libvips' default is a thread per core for each image).
      module.default.concurrency(1);
      return module.default;
    }));
    signal.throwIfAborted();
    const started = performance.now();
    const header = await this.#header(sharp, bytes, minSide);
    signal.throwIfAborted();
    const input: () => Sharp =
      format === 'heic'
        ? await this.#heicInput(sharp, bytes, header, side, signal)
        : () => sharp(bytes, { failOn: 'error', limitInputPixels: this.#settings.maxPixels, pages: 1 });
    const seconds = Math.ceil(this.#settings.timeoutMs / 1000);
    let quality = JPEG_QUALITY;
    let output = await encode(input, side, quality, seconds);
    for (const lower of FALLBACK_QUALITIES) {
      if (output.data.length <= GRAPH_MAX_PHOTO_BYTES) break;
      signal.throwIfAborted();
      quality = lower;
      output = await encode(input, side, quality, seconds);
    }
    if (output.data.length > GRAPH_MAX_PHOTO_BYTES) {
      throw new UnusableImageError(`The image does not fit Graph's 4 MB even at JPEG quality ${quality}; lower PHOTO_MAX_SIDE.`);
    }
    return {
      jpeg: output.data,
      inputFormat: format,
      width: output.info.width,
      height: output.info.height,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** The image's header, read without decoding: its pixel count and sides are checked here. */
  async #header(sharp: SharpConstructor, bytes: Buffer, minSide: number): Promise<Metadata> {
    const { maxPixels } = this.#settings;
    // sharp's own pixel limit (268 MP) would refuse a bigger one with a message that does not say ours.
    const header = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => {
      throw new UnusableImageError(`The image could not be read (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`);
    });
    const width = header.width ?? 0;
    const height = header.height ?? 0;
    if (width * height > maxPixels) {
      throw new UnusableImageError(`The image is ${width} x ${height} pixels, over the limit of ${formatPixels(maxPixels)}.`);
    }
    if (Math.min(width, height) < minSide) {
      throw new UnusableImageError(
        `The image is ${width} x ${height} pixels: a contact photo needs at least ${minSide} pixels on its shorter side.`,
      );
    }
    return header;
  }

  /**
   * A HEIC's pixels as a sharp input in the right colours. The decoder gives RGBA in the file's
   * colour space; scaled down first (cheap on raw pixels), they are tagged with the file's ICC
   * profile (from the header sharp read) so that `encode` converts them to sRGB like any image.
   */
  async #heicInput(sharp: SharpConstructor, bytes: Buffer, header: Metadata, side: number, signal: AbortSignal): Promise<() => Sharp> {
    this.#heic ??= new HeicDecoder(this.#settings.concurrency);
    const raw = await this.#heic.decode(bytes, signal).catch(() => {
      throw signal.aborted ? signal.reason : new UnusableImageError(`The HEIC image could not be decoded (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`);
    });
    signal.throwIfAborted();
    const pixels = () => sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 } });
    if (header.icc === undefined) return pixels;
    const scaled = await pixels()
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 0, adaptiveFiltering: false })
      .toBuffer();
    const tagged = pngWithIccProfile(scaled, header.icc);
    return () => sharp(tagged);
  }
}

/**
 * One encoding of the pipeline: orient, flatten, fit inside `side`, convert to sRGB from the
 * input's own profile and drop it, JPEG without metadata. The conversion is asked for explicitly:
 * sharp's default converts 8-bit inputs only, and a 16-bit PNG in Display P3 came out muted.
 *
 * `input` makes a new pipeline over the same bytes: sharp's `clone()` deep-copies its options
 * with `structuredClone`, input buffer included, which cost a 19 MB upload a copy on the event
 * loop (tens of ms each, found by profiling a burst).
 */
async function encode(input: () => Sharp, side: number, quality: number, timeoutSeconds: number): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await input()
      .autoOrient()
      .flatten({ background: WHITE })
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .withIccProfile('srgb', { attach: false })
      .jpeg({ quality })
      .timeout({ seconds: timeoutSeconds })
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new UnusableImageError(CORRUPT);
  }
}

/** A promise that rejects with the signal's reason once it is aborted (and never settles before). */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function formatPixels(pixels: number): string {
  return pixels % 1_000_000 === 0 ? `${pixels / 1_000_000} megapixels` : `${pixels} pixels`;
}
