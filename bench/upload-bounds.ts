/**
 * The picture path's bounds, measured (`BENCH_ONLY=upload-bounds npm run bench`, and in the full
 * run): peak memory under more large uploads than the photo queue holds, `/healthz` latency while
 * a burst of uploads (crafted `ftyp` headers among them) is worked on, and the HEIC decoder's
 * cost per image with its long-lived worker pool against a new worker (and decoder compile) per
 * image, as before.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { median } from './load.js';
import { repoPath } from './processes.js';
import { startGatewayProcess } from './targets.js';

const UPLOAD = 'mutation U($invitationId: ID!, $contactId: ID!, $file: Upload!) { uploadContactPhoto(invitationId: $invitationId, contactId: $contactId, file: $file) { id } }';

export const BOUNDS = { uploads: 40, concurrency: 2, queue: 8, maxUploadMiB: 20, burst: 12, crafted: 3, heicImages: 30 } as const;

/** Asks its URL every 10 ms until its stdin closes, then prints the latencies (ms) as JSON. */
const HEALTHZ_POLLER = `
let done = false;
process.stdin.on('data', () => {}).on('end', () => (done = true));
const latencies = [];
while (!done) {
  const started = performance.now();
  await (await fetch(process.argv[1])).arrayBuffer();
  latencies.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 10));
}
process.stdout.write(JSON.stringify(latencies));
`;

export interface UploadBoundsResult {
  fileMB: number;
  /** RSS of the idle gateway before the uploads, MiB. */
  idleRssMiB: number;
  peakRssMiB: number;
  /** The README's bound: idle + (PHOTO_CONCURRENCY + PHOTO_QUEUE) x PHOTO_MAX_UPLOAD_BYTES (decoding not counted). */
  formulaMiB: number;
  /** RSS 3 s after the last answer. */
  afterRssMiB: number;
  accepted: number;
  refused: number;
  other: number;
  healthzP50Ms: number;
  healthzP99Ms: number;
  healthzSamples: number;
  heicPoolMs: number;
  heicWorkerPerImageMs: number;
}

function rssMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** A PNG of noise of about `mb` MB: it does not compress, so the file is as large as its pixels. */
async function noisePng(mb: number): Promise<Buffer> {
  const side = Math.floor(Math.sqrt((mb * 1e6) / 3));
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

/** An ISO-BMFF file whose `ftyp` box claims the whole file: a header scan that trusts it reads 19 MB of "brands". */
function craftedFtyp(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x61);
  bytes.writeUInt32BE(size, 0);
  bytes.write('ftypheic', 4, 'latin1');
  return bytes;
}

async function upload(url: string, file: Buffer, n: number): Promise<number> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { invitationId: `bounds-${n % 50}`, contactId: `c-${n}`, file: null } }));
  form.append('map', '{"0":["variables.file"]}');
  form.append('0', new Blob([file]), 'photo.bin');
  try {
    const response = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer bench-token', 'apollo-require-preflight': 'true' }, body: form });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export async function runUploadBounds(graphBaseUrl: string, log: (line: string) => void): Promise<UploadBoundsResult> {
  const file = await noisePng(19);
  const fileMB = file.length / 1e6;
  const env = { PHOTO_CONCURRENCY: String(BOUNDS.concurrency), PHOTO_QUEUE: String(BOUNDS.queue), PHOTO_MAX_UPLOAD_BYTES: String(BOUNDS.maxUploadMiB * 1024 * 1024) };

  // 1. Memory: 40 uploads of 19 MB at once.
  const gateway = await startGatewayProcess(graphBaseUrl, env);
  let memory;
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = rssMiB(gateway.pid, 'VmRSS');
    const statuses = await Promise.all(Array.from({ length: BOUNDS.uploads }, (_, n) => upload(gateway.url, file, n)));
    const peak = rssMiB(gateway.pid, 'VmHWM');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = rssMiB(gateway.pid, 'VmRSS');
    const accepted = statuses.filter((status) => status === 200).length;
    const refused = statuses.filter((status) => status === 429).length;
    memory = {
      idleRssMiB: idle,
      peakRssMiB: peak,
      formulaMiB: idle + (BOUNDS.concurrency + BOUNDS.queue) * BOUNDS.maxUploadMiB,
      afterRssMiB: after,
      accepted,
      refused,
      other: statuses.length - accepted - refused,
    };
    log(`  ${BOUNDS.uploads} uploads of ${fileMB.toFixed(1)} MB: ${accepted} answered, ${refused} refused 429; RSS idle ${idle.toFixed(0)}, peak ${peak.toFixed(0)} (formula ${memory.formulaMiB.toFixed(0)}), after ${after.toFixed(0)} MiB`);
  } finally {
    await gateway.stop();
  }

  // 2. /healthz while a burst is worked on, crafted ftyp files among the uploads.
  const busy = await startGatewayProcess(graphBaseUrl, env);
  let health;
  try {
    const crafted = craftedFtyp(file.length);
    // /healthz is asked from a process of its own: this one is busy sending 19 MB bodies, and its
    // event loop's delays would be counted as the gateway's.
    const poller = spawn(process.execPath, ['--input-type=module', '-e', HEALTHZ_POLLER, new URL('/healthz', busy.url).href], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    poller.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(poller, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await Promise.all(Array.from({ length: BOUNDS.burst }, (_, n) => upload(busy.url, n < BOUNDS.crafted ? crafted : file, 100 + n)));
    poller.stdin.end();
    await exited;
    const latencies = (JSON.parse(output) as number[]).sort((a, b) => a - b);
    health = {
      healthzP50Ms: latencies[Math.floor(latencies.length * 0.5)]!,
      healthzP99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
      healthzSamples: latencies.length,
    };
    log(`  /healthz during a burst of ${BOUNDS.burst} (${BOUNDS.crafted} crafted ftyp): p50 ${health.healthzP50Ms.toFixed(1)} ms, p99 ${health.healthzP99Ms.toFixed(1)} ms (${latencies.length} samples)`);
  } finally {
    await busy.stop();
  }

  // 3. HEIC: the pool against a worker (and a decoder compile) per image, alternating.
  // From the build: the decoder's worker file (.mjs) is there, not beside the bench's own build.
  const { HeicDecoder } = (await import(pathToFileURL(repoPath('dist/photos/heic-decoder.js')).href)) as typeof import('../src/photos/heic-decoder.js');
  const heic = readFileSync(repoPath('test/fixtures/images/red-blue-64x48.heic'));
  const pool = new HeicDecoder(1);
  const never = new AbortController().signal;
  await pool.decode(heic, never);
  const pooled: number[] = [];
  const perImage: number[] = [];
  for (let n = 0; n < BOUNDS.heicImages; n++) {
    let started = performance.now();
    await pool.decode(heic, never);
    pooled.push(performance.now() - started);
    started = performance.now();
    const fresh = new HeicDecoder(1);
    await fresh.decode(heic, never);
    perImage.push(performance.now() - started);
    await fresh.close();
  }
  await pool.close();
  const heicResult = { heicPoolMs: median(pooled), heicWorkerPerImageMs: median(perImage) };
  log(`  HEIC 64 x 48, median of ${BOUNDS.heicImages}: pool ${heicResult.heicPoolMs.toFixed(1)} ms, a worker per image ${heicResult.heicWorkerPerImageMs.toFixed(1)} ms`);

  return { fileMB, ...memory, ...health, ...heicResult };
}

export function formatUploadBounds(result: UploadBoundsResult): string {
  const row = (name: string, value: string, met?: boolean) => `| ${name} | ${value} |${met === undefined ? '' : met ? ' yes |' : ' **no** |'}`;
  return [
    `### Upload bounds: PHOTO_CONCURRENCY=${BOUNDS.concurrency}, PHOTO_QUEUE=${BOUNDS.queue}, files of ${result.fileMB.toFixed(1)} MB`,
    '',
    '| measure | value | target met |',
    '| --- | --- | --- |',
    row(`${BOUNDS.uploads} uploads at once: answered / refused 429 / other`, `${result.accepted} / ${result.refused} / ${result.other}`),
    row('RSS idle, peak, 3 s after', `${result.idleRssMiB.toFixed(0)}, ${result.peakRssMiB.toFixed(0)}, ${result.afterRssMiB.toFixed(0)} MiB`),
    row('peak within idle + (C + Q) x 20 MiB', `${result.peakRssMiB.toFixed(0)} <= ${result.formulaMiB.toFixed(0)} MiB`, result.peakRssMiB <= result.formulaMiB),
    row(`/healthz p50 / p99 during a burst of ${BOUNDS.burst} (${BOUNDS.crafted} crafted ftyp)`, `${result.healthzP50Ms.toFixed(1)} / ${result.healthzP99Ms.toFixed(1)} ms (${result.healthzSamples} samples)`, result.healthzP99Ms < 50),
    row('HEIC per image: worker pool / a worker per image (64 x 48, so mostly overhead)', `${result.heicPoolMs.toFixed(1)} / ${result.heicWorkerPerImageMs.toFixed(1)} ms`, result.heicPoolMs < 20),
  ].join('\n');
}
