/**
 * A one-off measurement, not a scenario of `npm run bench`: the gateway's peak memory answering a
 * list of 60 contacts asking full-size `dataUrl`, each picture about 4 MB (the most Graph keeps),
 * with `PHOTO_DATAURL_BUDGET_BYTES` at its default (8 MiB) and at its maximum (256 MiB). The
 * figures docs/photos.md quotes.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node build/bench/data-url-memory.js [budgets] [picture bytes] [Graph latency ms]
 *
 * e.g. `node build/bench/data-url-memory.js 8388608,16777216 100000 50` for lists of 95 KB pictures.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { startGatewayProcess } from './targets.js';

const CONTACTS = 60;
const TOKEN = 'memory-token';
const INVITATION = 'inv-memory';
const LIST = 'query List($contactIds: [ID!]!) { contactPhotos(invitationId: "inv-memory", contactIds: $contactIds) { contactId dataUrl } }';

function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** A JPEG of noise of at most `maxBytes` (by default just under Graph's 4 MB, 4 MiB, cap): it does not compress away. */
async function largePicture(maxBytes: number): Promise<Buffer> {
  for (let side = Math.ceil(Math.sqrt(maxBytes / 0.78 / 1.3) / 20) * 20; ; side -= 20) {
    const [width, height] = [side, Math.round(side * 0.78)];
    const pixels = Buffer.alloc(width * height * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
    const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    if (jpeg.length <= maxBytes) return jpeg;
  }
}

async function measure(simulatorUrl: string, budget: string | undefined): Promise<Record<string, unknown>> {
  const gateway = await startGatewayProcess(simulatorUrl, budget ? { PHOTO_DATAURL_BUDGET_BYTES: budget } : {});
  try {
    const idleMiB = statusMiB(gateway.pid, 'VmRSS');
    const contactIds = Array.from({ length: CONTACTS }, (_, i) => `c${i}`);
    const post = (query: string) =>
      fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ query, variables: { contactIds } }),
      });
    // The same list without pictures first: the peak it leaves is the request's own, without them.
    await (await post(LIST.replace('dataUrl', 'id'))).text();
    const withoutPicturesMiB = statusMiB(gateway.pid, 'VmHWM');
    const started = performance.now();
    const response = await post(LIST);
    const text = await response.text();
    const seconds = (performance.now() - started) / 1000;
    const body = JSON.parse(text) as { data: { contactPhotos: Array<{ dataUrl: string | null }> }; errors?: Array<{ extensions: { code: string } }> };
    return {
      budget: budget ?? 'default (8 MiB)',
      status: response.status,
      answerMB: Math.round(text.length / 1e5) / 10,
      served: body.data.contactPhotos.filter((entry) => entry.dataUrl !== null).length,
      refused: body.errors?.filter((error) => error.extensions.code === 'BAD_USER_INPUT').length ?? 0,
      seconds: Math.round(seconds * 100) / 100,
      idleRssMiB: Math.round(idleMiB),
      peakWithoutPicturesMiB: Math.round(withoutPicturesMiB),
      peakRssMiB: Math.round(statusMiB(gateway.pid, 'VmHWM')),
    };
  } finally {
    await gateway.stop();
  }
}

// Arguments: the budgets to try (comma-separated, empty for the default), the pictures' size in
// bytes at most (4 MiB by default), Graph's latency per request in ms (none by default).
const simulator = new GraphSimulator({ latencyMs: Number(process.argv[4] ?? 0) });
const simulatorUrl = await simulator.listen();
const picture = await largePicture(Number(process.argv[3] ?? 4 * 1024 * 1024));
for (let i = 0; i < CONTACTS; i++) {
  const url = `${simulatorUrl}/invitations/${INVITATION}/invitedUser/contacts/c${i}/photo/$value`;
  const response = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/jpeg' }, body: picture });
  if (!response.ok) throw new Error(`seeding c${i}: ${response.status}`);
}
console.log(`${CONTACTS} pictures of ${picture.length} bytes`);
for (const budget of (process.argv[2] ?? ',,268435456').split(',').map((value) => value || undefined)) console.log(JSON.stringify(await measure(simulatorUrl, budget)));
await simulator.close();
