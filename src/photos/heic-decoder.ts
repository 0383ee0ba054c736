import { Piscina } from 'piscina';

/** Raw RGBA pixels of a decoded image. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The worker threads' JavaScript heap is small (the pixels live in WebAssembly memory, which V8's
 * limits do not cover, and come back as a transferred buffer): these limits stop a decoder bug from
 * growing a worker's heap without bound. A worker past them is ended and its task rejected.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

/** An idle worker exits after this long, giving its WebAssembly memory (the size of its largest image) back. */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * Decodes HEIC/HEIF (iPhones' format) to RGBA in a pool of long-lived worker threads: libvips as
 * sharp ships it reads HEIF headers but has no HEVC decoder. A worker is started on first use and
 * kept while images come (no worker and no decoder compile per image), at most `threads` at once.
 */
export class HeicDecoder {
  readonly #pool: Piscina;

  constructor(threads: number) {
    this.#pool = new Piscina({
      filename: new URL('./heic-worker.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      resourceLimits: RESOURCE_LIMITS,
    });
  }

  /**
   * The primary image of `bytes`. An abort (the caller left, or the time limit passed) ends the
   * worker that is decoding it, so no CPU is spent for nobody. Rejects with the decoder's error
   * when the file cannot be decoded.
   */
  decode(bytes: Buffer, signal: AbortSignal): Promise<RawImage> {
    return this.#pool.run(bytes, { signal }) as Promise<RawImage>;
  }

  /** Ends the workers (at shutdown). */
  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
