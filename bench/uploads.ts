/**
 * The upload scenario of `npm run bench`: 12-megapixel JPEGs of about 3 MB (a phone's photo)
 * uploaded through the gateway to the simulator, and the same conversion done by sharp alone
 * in this process, in the same run.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { median } from './load.js';
import { startGatewayProcess } from './targets.js';

const UPLOAD = 'mutation U($invitationId: ID!, $contactId: ID!, $file: Upload!) { uploadContactPhoto(invitationId: $invitationId, contactId: $contactId, file: $file) { id } }';

export const UPLOADS = { width: 4000, height: 3000, images: 4, concurrency: 8, perClient: 6, serial: 12, burst: 16 } as const;

export interface UploadResult {
  /** Size of the test images, MB. */
  imageMB: number;
  uploadsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The gateway's peak RSS (VmHWM) over the concurrent run, MiB. */
  peakRssMiB: number;
  /** The gateway's peak RSS with `burst` uploads at once, from a fresh process, MiB. */
  burstPeakRssMiB: number;
  /** Processing time per image as the gateway measures it (`photo_processing_seconds`), uploads one at a time. */
  gatewayProcessingMs: number;
  /** The same conversion by sharp alone in this process, one at a time: median ms. */
  sharpAloneMs: number;
}

/** A photo-like 12 MP JPEG: a gradient with a fine texture, which compresses like a photo (about 3 MB). */
async function photoLikeJpeg(seed: number): Promise<Buffer> {
  const { width, height } = UPLOADS;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const texture = (((x + seed) * 2654435761) ^ (y * 40503)) >>> 0;
      const n = texture % 20;
      pixels[i] = ((x * 255) / width + n + seed * 40) & 255;
      pixels[i + 1] = ((y * 255) / height + n) & 255;
      pixels[i + 2] = (128 + n) & 255;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** What the gateway does to an upload, done by sharp alone. */
function sharpAlone(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes, { failOn: 'error' })
    .autoOrient()
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .resize({ width: 648, height: 648, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function upload(url: string, image: Buffer, n: number): Promise<boolean> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { invitationId: `upload-mailbox-${n % 100}`, contactId: `contact-${n}`, file: null } }));
  form.append('map', '{"0":["variables.file"]}');
  form.append('0', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  try {
    const response = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer bench-token', 'apollo-require-preflight': 'true' }, body: form });
    const body = (await response.json()) as { errors?: unknown };
    return response.ok && body.errors === undefined;
  } catch {
    return false;
  }
}

/** Sum and count of the gateway's `photo_processing_seconds` for uploads. */
async function processingSeconds(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const read = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`photo_processing_seconds_${name}{operation="upload"`))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { sum: read('sum'), count: read('count') };
}

function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

export async function runUploads(graphBaseUrl: string, log: (line: string) => void): Promise<UploadResult> {
  const images = await Promise.all(Array.from({ length: UPLOADS.images }, (_, seed) => photoLikeJpeg(seed)));
  const imageMB = median(images.map((image) => image.length / 1e6));
  log(`  ${UPLOADS.images} images of ${UPLOADS.width} x ${UPLOADS.height}, median ${imageMB.toFixed(2)} MB`);

  // One at a time, alternating gateway and sharp alone, so that drift of the machine hits both.
  // Its processing time is read from /metrics, which production serves on the main port only when told.
  const gateway = await startGatewayProcess(graphBaseUrl, { METRICS_ON_MAIN_PORT: 'true' });
  const sharpTimes: number[] = [];
  let gatewayMs = 0;
  let concurrent;
  try {
    await upload(gateway.url, images[0]!, -1); // warm-up
    await sharpAlone(images[0]!);
    const before = await processingSeconds(gateway.url);
    for (let n = 0; n < UPLOADS.serial; n++) {
      const image = images[n % images.length]!;
      await upload(gateway.url, image, n);
      const started = performance.now();
      await sharpAlone(image);
      sharpTimes.push(performance.now() - started);
    }
    const after = await processingSeconds(gateway.url);
    gatewayMs = ((after.sum - before.sum) / (after.count - before.count)) * 1000;
    log(`  processing per image: gateway ${gatewayMs.toFixed(1)} ms, sharp alone ${median(sharpTimes).toFixed(1)} ms`);

    // Concurrent clients, each uploading in turn.
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: UPLOADS.concurrency }, async (_, client) => {
        for (let k = 0; k < UPLOADS.perClient; k++) {
          const n = client * UPLOADS.perClient + k;
          const callStarted = performance.now();
          if (!(await upload(gateway.url, images[n % images.length]!, 1000 + n))) errors++;
          latencies.push(performance.now() - callStarted);
        }
      }),
    );
    const wallS = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const peakRss = peakRssMiB(gateway.pid);
    log(`  ${UPLOADS.concurrency} concurrent: ${(latencies.length / wallS).toFixed(1)} uploads/s, peak RSS ${peakRss.toFixed(0)} MiB, errors ${errors}`);
    concurrent = {
      uploadsPerSecond: latencies.length / wallS,
      p50Ms: latencies[Math.floor(latencies.length * 0.5)]!,
      p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
      errors,
      peakRssMiB: peakRss,
    };
  } finally {
    await gateway.stop();
  }

  // A burst from a fresh process: its peak memory is the burst's. Its photo queue holds the whole
  // burst (by default PHOTO_CONCURRENCY + PHOTO_QUEUE admit fewer, and refuse the rest at once).
  const fresh = await startGatewayProcess(graphBaseUrl, { PHOTO_QUEUE: String(UPLOADS.burst) });
  try {
    const answers = await Promise.all(Array.from({ length: UPLOADS.burst }, (_, n) => upload(fresh.url, images[n % images.length]!, 5000 + n)));
    const burstPeak = peakRssMiB(fresh.pid);
    const failed = answers.filter((answer) => !answer).length;
    log(`  burst of ${UPLOADS.burst}: ${UPLOADS.burst - failed}/${UPLOADS.burst} answered, peak RSS ${burstPeak.toFixed(0)} MiB`);
    return {
      imageMB,
      ...concurrent,
      errors: concurrent.errors + failed,
      burstPeakRssMiB: burstPeak,
      gatewayProcessingMs: gatewayMs,
      sharpAloneMs: median(sharpTimes),
    };
  } finally {
    await fresh.stop();
  }
}
