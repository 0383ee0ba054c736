import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { postGraphQL } from '../support/graphql.js';
import { twoColourImage } from '../support/images.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { LogCapture } from '../support/stack.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';

/** The photo cache shared by two replicas through a real redis-server (REDIS_URL). */

const SECRET = 'photo-cache-redis-secret-of-32-characters-at-least';
const TOKEN = 'redis-cache-token';
const ids = { invitationId: 'inv-redis-cache', contactId: 'contact-redis-cache' };
const PHOTO = `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id width url(size: 48) } }`;

let redis: RedisServer;
let graph: GraphSimulator;
let replicas: Array<{ gateway: Gateway; url: string }>;
beforeAll(async () => {
  redis = await startRedis();
  graph = new GraphSimulator();
  await graph.listen();
  replicas = [];
  for (let i = 0; i < 2; i++) {
    const env = { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graph.baseUrl, GRAPH_MAX_RETRIES: '0', REDIS_URL: redis.url, PHOTO_URL_SECRET: SECRET };
    const gateway = await createGateway(loadConfig(env), { logDestination: new LogCapture() });
    replicas.push({ gateway, url: await gateway.listen() });
  }
});
afterAll(async () => {
  for (const replica of replicas) await replica.gateway.shutdown();
  await graph.close();
  await redis.stop();
});
beforeEach(() => graph.reset());

const photoReads = () => graph.requests.filter((request) => request.method === 'GET' && request.contactId !== undefined).length;

async function read(replica: number, token = TOKEN): Promise<{ id: string; width: number; url: string } | null> {
  const result = await postGraphQL(replicas[replica]!.url, PHOTO, ids, { token });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!['contactPhoto'] as { id: string; width: number; url: string } | null;
}

async function upload(replica: number, width: number): Promise<void> {
  const png = await (await twoColourImage(width, 100)).png().toBuffer();
  const result = await postUpload(replicas[replica]!.url, UPLOAD_PHOTO, ids, png, { token: TOKEN });
  expect(result.body.errors).toBeUndefined();
}

/** Redis answers again (a test before may have stopped it). */
async function redisUp(): Promise<void> {
  const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await probe.connect().catch(() => redis.restart());
  } finally {
    probe.disconnect();
  }
}

it("answers one replica's read from the entry another made, and serves the URL another gave", async () => {
  await redisUp();
  await upload(0, 300);
  const first = await read(0);
  const before = photoReads();

  const second = await read(1);
  const picture = await fetch(new URL(first!.url, replicas[1]!.url));

  expect(second).toEqual(first);
  expect(photoReads()).toBe(before);
  expect(picture.status).toBe(200);
  expect(picture.headers.get('content-type')).toBe('image/jpeg');
});

it("shows an upload through one replica to the next read on the other at once", async () => {
  await redisUp();
  await upload(0, 300);
  await read(1);

  await upload(0, 200);
  const after = await read(1);

  expect(after!.width).toBe(200);
});

it('answers a page listed through one replica from Redis on the other, without a Graph call', async () => {
  await redisUp();
  graph.addContacts(ids.invitationId, [{ id: 'listed-1', displayName: 'Listed One', emailAddresses: [{ address: 'one@example.com' }] }]);
  const PAGE = 'query Page($invitationId: ID!) { contacts(invitationId: $invitationId, first: 10) { edges { node { id displayName emailAddresses { address } } } pageInfo { hasNextPage } } }';
  const list = async (replica: number) => {
    const result = await postGraphQL(replicas[replica]!.url, PAGE, { invitationId: ids.invitationId }, { token: TOKEN });
    expect(result.body.errors).toBeUndefined();
    return result.body.data!['contacts'];
  };
  const listCalls = () => graph.requests.filter((request) => request.method === 'GET' && request.url.includes('/invitedUser/contacts?')).length;

  const first = await list(0);
  const before = listCalls();
  const second = await list(1);

  expect(first).toEqual({ edges: [{ node: { id: 'listed-1', displayName: 'Listed One', emailAddresses: [{ address: 'one@example.com' }] } }], pageInfo: { hasNextPage: false } });
  expect(second).toEqual(first);
  expect(before).toBe(1);
  expect(listCalls()).toBe(before);
});

it('gives every key a TTL, keeps the keys of one mailbox in one hash slot, and names no token', async () => {
  await redisUp();
  await upload(0, 300);
  await read(0);
  const probe = new Redis(redis.url);
  try {
    const keys = (await probe.keys('contact-photo-gateway:*')).filter((key) => !/:(leases|pause|waiting)$/.test(key));
    const ttls = await Promise.all(keys.map((key) => probe.pttl(key)));
    const slots = new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1]));

    // The metadata, the picture, the thumbnail, the URL's bytes and the contact's version (and the page listed before).
    expect(keys.length).toBeGreaterThanOrEqual(5);
    expect(ttls.filter((ttl) => ttl <= 0)).toEqual([]);
    expect(slots.size).toBe(1);
    expect([...slots][0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(keys.filter((key) => key.includes(TOKEN) || key.includes(ids.contactId) || key.includes(ids.invitationId))).toEqual([]);
  } finally {
    probe.disconnect();
  }
});

it('answers every read from Graph while Redis is stopped, and uses the cache again once it is back', async () => {
  await redisUp();
  await upload(0, 300);
  await read(0);
  redis.signal('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = photoReads();

  const whileDown = [await read(0), await read(1)];

  expect(whileDown.map((photo) => photo!.width)).toEqual([300, 300]);
  expect(photoReads() - before).toBe(4);
  await redis.restart();
  // ioredis reconnects within 2 s: then a read is kept again, and the next one asks Graph nothing.
  let cachedAgain = false;
  for (let attempt = 0; attempt < 40 && !cachedAgain; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await read(1);
    const reads = photoReads();
    await read(1);
    cachedAgain = photoReads() === reads;
  }
  expect(cachedAgain).toBe(true);
});

it('answers every read from Graph while Redis is frozen (it accepts connections, answers nothing)', async () => {
  await redisUp();
  await upload(0, 300);
  redis.signal('SIGSTOP');
  try {
    const before = photoReads();

    const whileFrozen = await read(1, 'frozen-token');

    // This token's Graph has no photo: the metadata and the picture (asked for `url`) are read, each once.
    expect(whileFrozen).toBeNull();
    expect(photoReads() - before).toBe(2);
  } finally {
    redis.signal('SIGCONT');
  }
});
