// The HEIC decoder's worker, run by a piscina pool (see heic-decoder.ts). Plain JavaScript
// because a worker thread loads its file as Node finds it, with no TypeScript loader: the same
// file then runs from the sources under Jest and from dist/ (tsconfig.build.json copies it).
//
// heic-decode runs libheif compiled to WebAssembly, synchronously: on the main thread a
// 12-megapixel photo would hold the event loop for about a second. The module (and its
// WebAssembly compile, about 110 ms) is loaded once per worker, not once per image.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import decode from 'heic-decode';

// libheif prints "Decoding image failed ..." with console.log for a corrupt file, and a worker's
// console writes to the process's stdout: a line that is not JSON among the gateway's log lines
// (and noise in a green test run). The failure reaches the caller as the rejected decode; this
// thread's console (each worker has its own) is silenced so that nothing else is written.
for (const method of ['log', 'info', 'warn', 'error', 'debug']) console[method] = () => undefined;

/** Decodes the primary image of a HEIC/HEIF file to RGBA; the pixels are moved, not copied, back. */
export default async function decodeHeic(bytes) {
  const image = await decode({ buffer: bytes });
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const result = { width: image.width, height: image.height, data };
  // piscina's protocol for a value that travels with a transfer list.
  return move({
    get [transferableSymbol]() {
      return [data.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
