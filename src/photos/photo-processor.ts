import pLimit, { type LimitFunction } from 'p-limit';
import type { OutputInfo, Sharp, SharpConstructor } from 'sharp';
import { GRAPH_MAX_PHOTO_BYTES } from '../graph/photo-value.js';
import { decodeHeic } from './heic-decoder.js';
import { ACCEPTED_FORMATS, detectImageFormat, type ImageFormat } from './image-format.js';

export interface PhotoSettings {
  /** Longest side of an uploaded photo after normalising (`PHOTO_MAX_SIDE`; Outlook's largest is 648). */
  maxSide: number;
  /** Largest image accepted, in pixels, read from its header before decoding (`PHOTO_MAX_PIXELS`). */
  maxPixels: number;
  /** Images processed at once (`PHOTO_CONCURRENCY`); the others wait their turn. */
  concurrency: number;
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

/** Why an image could not be used; the caller decides whose fault that is (the uploader's, or Graph's). */
export class UnusableImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableImageError';
  }
}

const JPEG_QUALITY = 85;
/** Qualities tried in turn when a JPEG is over Graph's 4 MB (only with a very large PHOTO_MAX_SIDE). */
const FALLBACK_QUALITIES = [70, 55, 40, 25];
const WHITE = { r: 255, g: 255, b: 255 };

/**
 * Turns whatever a phone or a browser uploads into the JPEG Outlook wants, and Graph's photo into
 * thumbnails: EXIF orientation applied, transparency flattened onto white, scaled down (never
 * up) to fit a square of the given side, JPEG at quality 85, and no metadata at all (EXIF, GPS,
 * XMP, ICC: a photo's location must not travel to everyone who sees the contact). The work runs
 * on libuv's thread pool (sharp) or a worker thread (HEIC), never on the event loop, and at
 * most `concurrency` images at once.
 */
export class PhotoProcessor {
  readonly #settings: PhotoSettings;
  readonly #limit: LimitFunction;
  /**
   * sharp, loaded with the first image: libvips costs about 15 MiB of memory and start-up time
   * that a gateway which never sees an upload should not pay.
   */
  #sharp: Promise<SharpConstructor> | undefined;

  constructor(settings: PhotoSettings) {
    this.#settings = settings;
    this.#limit = pLimit(settings.concurrency);
  }

  /** Images being processed and waiting for a turn. */
  get usage(): { active: number; waiting: number } {
    return { active: this.#limit.activeCount, waiting: this.#limit.pendingCount };
  }

  /**
   * An uploaded image as the JPEG to send to Graph, at most `PHOTO_MAX_SIDE` on its longer side.
   *
   * @throws UnusableImageError for an empty file, a format not accepted, too many pixels, or an
   * image that does not decode (truncated, corrupt).
   */
  normalise(bytes: Buffer): Promise<NormalisedPhoto> {
    return this.convert(bytes, this.#settings.maxSide);
  }

  /** An image scaled down to fit `side` (never up), as JPEG, by the same pipeline as `normalise`. */
  resize(bytes: Buffer, side: number): Promise<NormalisedPhoto> {
    return this.convert(bytes, side);
  }

  private convert(bytes: Buffer, side: number): Promise<NormalisedPhoto> {
    // What can be refused from the first bytes is refused before queueing for a turn.
    if (bytes.length === 0) return Promise.reject(new UnusableImageError(`The file is empty: send a ${ACCEPTED_FORMATS} image.`));
    const format = detectImageFormat(bytes);
    if (format === undefined) {
      return Promise.reject(new UnusableImageError(`The file is not an image the gateway reads: send a ${ACCEPTED_FORMATS} image.`));
    }
    return this.#limit(async () => {
      const sharp = await (this.#sharp ??= import('sharp').then((module) => module.default));
      const started = performance.now();
      const input = await this.decoded(sharp, bytes, format);
      let quality = JPEG_QUALITY;
      let output = await encode(input, side, quality);
      for (const lower of FALLBACK_QUALITIES) {
        if (output.data.length <= GRAPH_MAX_PHOTO_BYTES) break;
        quality = lower;
        output = await encode(input, side, quality);
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
    });
  }

  /** A sharp pipeline over the decoded image; the pixel count is checked from the header first. */
  private async decoded(sharp: SharpConstructor, bytes: Buffer, format: ImageFormat): Promise<Sharp> {
    const { maxPixels } = this.#settings;
    // Only the header is read here; sharp's own pixel limit (268 MP) would refuse a bigger one
    // with a message that does not say ours.
    const header = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => {
      throw new UnusableImageError(`The image could not be read (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`);
    });
    const pixels = (header.width ?? 0) * (header.height ?? 0);
    if (pixels > maxPixels) {
      throw new UnusableImageError(
        `The image is ${header.width} x ${header.height} pixels, over the limit of ${formatPixels(maxPixels)}.`,
      );
    }
    if (format !== 'heic') {
      // failOn 'error' refuses truncated and corrupt images (libjpeg would fill a cut-off JPEG
      // with grey) but not the harmless warnings many cameras' files raise.
      return sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels, pages: 1 });
    }
    const raw = await decodeHeic(bytes).catch(() => {
      throw new UnusableImageError(`The HEIC image could not be decoded (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`);
    });
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 } });
  }
}

/** One encoding of the pipeline: orient, flatten, fit inside `side`, JPEG without metadata. */
async function encode(input: Sharp, side: number, quality: number): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await input
      .clone()
      .autoOrient()
      .flatten({ background: WHITE })
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (error instanceof UnusableImageError) throw error;
    throw new UnusableImageError(`The image could not be decoded (truncated or corrupt): send a ${ACCEPTED_FORMATS} image.`);
  }
}

function formatPixels(pixels: number): string {
  return pixels % 1_000_000 === 0 ? `${pixels / 1_000_000} megapixels` : `${pixels} pixels`;
}
