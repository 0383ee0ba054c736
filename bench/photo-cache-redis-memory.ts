/**
 * A one-off measurement, not a scenario of `npm run bench`: the Redis memory the photo cache
 * takes for `callers` x `contacts`, each caller opening a contacts screen of `contacts` photos
 * asking `url(size: 48)` (the metadata, the picture, its 48 px thumbnail and the URL's bytes).
 * Redis's `used_memory` before and after, on an empty redis-server of its own. The figures
 * docs/photos.md quotes.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node build/bench/photo-cache-redis-memory.js [callers] [contacts] [picture side px]
 */
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { startRedis } from '../test/support/redis.js';
import { startGatewayProcess } from './targets.js';

const [callers, contacts, side] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 50), Number(process.argv[4] ?? 240)];
const INVITATION = 'inv-memory';
const LIST = 'query List($contactIds: [ID!]!) { contactPhotos(invitationId: "inv-memory", contactIds: $contactIds) { contactId width url(size: 48) } }';

/** A photo-like JPEG (gradients and a little noise), as Outlook keeps them. */
async function picture(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = ((i % (side * 3)) / 3 + seed * 37 + ((i * 7919) % 61)) & 255;
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

const redisServer = await startRedis();
// One mailbox every caller reaches (the simulator keeps one photo per contact for all tokens).
const graph = new GraphSimulator({ principal: () => 'mailbox', requestLogSize: 0 });
await graph.listen();
const gateway = await startGatewayProcess(graph.baseUrl, { REDIS_URL: redisServer.url, PHOTO_URL_SECRET: 'x'.repeat(32) });
const { url } = gateway;
const probe = new Redis(redisServer.url);
try {
  const contactIds = Array.from({ length: contacts }, (_, i) => `contact-${i}`);
  for (const [i, contactId] of contactIds.entries()) {
    const put = await fetch(`${graph.baseUrl}/invitations/${INVITATION}/invitedUser/contacts/${contactId}/photo/$value`, {
      method: 'PUT',
      headers: { authorization: 'Bearer seed', 'content-type': 'image/jpeg' },
      body: await picture(i),
    });
    if (!put.ok) throw new Error(`seeding ${contactId}: ${put.status}`);
  }
  const before = await usedMemory(probe);
  for (let caller = 0; caller < callers; caller++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer caller-${caller}` },
      body: JSON.stringify({ query: LIST, variables: { contactIds } }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  }
  // Writes are not awaited by the reads: let the last ones land.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await usedMemory(probe);
  const keys = await probe.dbsize();
  const pictureBytes = (await picture(0)).length;
  console.log(
    JSON.stringify({ callers, contacts, pictureSide: side, pictureBytes, keys, usedMemoryBefore: before, usedMemoryAfter: after, perCallerContactBytes: Math.round((after - before) / (callers * contacts)) }),
  );
} finally {
  probe.disconnect();
  await gateway.stop();
  await graph.close();
  await redisServer.stop();
}
