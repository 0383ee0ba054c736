import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Raw RGBA pixels of a decoded image. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The worker's code. heic-decode runs libheif compiled to WebAssembly, synchronously: on the main
 * thread a 12-megapixel photo would hold the event loop (and every other request) for about a
 * second, so it runs in a worker of its own. It is CommonJS run with `eval`, so that it needs no
 * file of its own in the build (and works the same from the sources under Jest).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const decode = require(workerData.decoderPath);
decode({ buffer: workerData.bytes }).then(
  (image) => {
    const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    parentPort.postMessage({ width: image.width, height: image.height, data }, [data.buffer]);
  },
  (error) => parentPort.postMessage({ error: String(error && error.message ? error.message : error) }),
);
`;

const decoderPath = createRequire(import.meta.url).resolve('heic-decode');

/**
 * Decodes the primary image of a HEIC/HEIF file (iPhones' format) to RGBA, in a worker thread.
 * libvips as sharp ships it reads HEIF headers but has no HEVC decoder. Rejects with the
 * decoder's message when the file cannot be decoded.
 */
export function decodeHeic(bytes: Buffer): Promise<RawImage> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { decoderPath, bytes } });
    let settled = false;
    worker.once('message', (message: RawImage | { error: string }) => {
      settled = true;
      void worker.terminate();
      if ('error' in message) reject(new Error(message.error));
      else resolve(message);
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`The HEIC decoder stopped (exit code ${code}).`));
    });
  });
}
