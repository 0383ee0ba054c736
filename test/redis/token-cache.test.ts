import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { EntraSimulator } from '../../src/simulator/entra/entra-simulator.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { postGraphQL } from '../support/graphql.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/** Sign-in's token cache shared by replicas through a real redis-server (AUTH_MODE=obo, REDIS_URL). */

let redis: RedisServer;
let entra: EntraSimulator;
let graph: GraphSimulator;
let replicas: SignInStack[];
beforeAll(async () => {
  redis = await startRedis();
  entra = new EntraSimulator();
  await entra.listen();
  graph = new GraphSimulator({ principal: (token) => entra.graphPrincipal(token) });
  await graph.listen();
  replicas = [];
  for (let i = 0; i < 2; i++) replicas.push(await startSignInStack({ entra, graph, env: { REDIS_URL: redis.url } }));
});
afterAll(async () => {
  for (const replica of replicas) await replica.close();
  await graph.close();
  await entra.close();
  await redis.stop();
});

const READ = '{ contactPhoto(invitationId: "inv", contactId: "c") { id } }';

it('reuses on one replica the Graph token another exchanged, kept under a hash of the caller’s token', async () => {
  const token = await entra.userToken({ oid: 'shared-user' });

  const first = await postGraphQL(replicas[0]!.url, READ, {}, { token });
  const second = await postGraphQL(replicas[1]!.url, READ, {}, { token });

  expect([first.body.errors, second.body.errors]).toEqual([undefined, undefined]);
  expect(entra.tokenRequests).toHaveLength(1);
  const sentToGraph = graph.requests.map((request) => request.headers.authorization);
  expect(sentToGraph[1]).toBe(sentToGraph[0]);
  const probe = new Redis(redis.url);
  try {
    const keys = await probe.keys('*obo*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(token);
    expect(keys[0]).not.toContain(token.split('.')[2]!.slice(0, 20));
  } finally {
    probe.disconnect();
  }
});

it('keeps callers apart: another user’s token on the same replica is exchanged for its own Graph token', async () => {
  entra.reset();

  await postGraphQL(replicas[1]!.url, READ, {}, { token: await entra.userToken({ oid: 'other-user' }) });

  expect(entra.tokenRequests).toHaveLength(1);
  expect(await entra.graphPrincipal(graph.requests.at(-1)!.headers.authorization!.replace('Bearer ', ''))).toBe(`${entra.tenantId}/other-user`);
});

/** The SHA-256 of a caller's token, as a partition key ends with it. */
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** The `oid` of every JWT in a stored partition, whatever the format around them. */
function oidsIn(stored: string): unknown[] {
  return [...stored.matchAll(/eyJ[\w-]+\.(eyJ[\w-]+)\.[\w-]+/g)].map((match) => (JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as { oid?: unknown }).oid);
}

async function usedMemoryOf(probe: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await probe.info('memory'))![1]);
}

async function withProbe<T>(work: (probe: Redis) => Promise<T>): Promise<T> {
  const probe = new Redis(redis.url);
  try {
    return await work(probe);
  } finally {
    probe.disconnect();
  }
}

it('keeps each caller’s partition to that caller’s own Graph token when 200 users’ first calls run at once', async () => {
  entra.reset();
  const emptyMemory = await withProbe(async (probe) => {
    await probe.flushall();
    return usedMemoryOf(probe);
  });
  const users = await Promise.all(Array.from({ length: 200 }, async (_, i) => ({ oid: `crowd-${i}`, token: await entra.userToken({ oid: `crowd-${i}` }) })));

  const results = await Promise.all(users.map((user, i) => postGraphQL(replicas[i % 2]!.url, READ, {}, { token: user.token })));

  expect(results.filter((result) => result.body.errors !== undefined)).toEqual([]);
  await withProbe(async (probe) => {
    const keys = await probe.keys('*obo*');
    expect(keys).toHaveLength(users.length);
    const sizes: number[] = [];
    for (const user of users) {
      const key = keys.find((candidate) => candidate.endsWith(`:${hashOf(user.token)}`));
      expect(key).toBeDefined();
      const stored = (await probe.get(key!))!;
      sizes.push(Buffer.byteLength(stored));
      const oids = oidsIn(stored);
      expect({ key, oids: [...new Set(oids)] }).toEqual({ key, oids: [user.oid] });
      expect(stored).not.toContain(user.token.split('.')[2]);
    }
    const usedMemory = await usedMemoryOf(probe);
    const keyMemory = (await Promise.all(keys.map((key) => probe.memory('USAGE', key)))).reduce<number>((sum, bytes) => sum + Number(bytes), 0);
    // The figure docs/replicas.md quotes (measured, not asserted beyond the partition bound).
    process.stdout.write(`token cache after ${users.length} users: used_memory ${usedMemory} B (${usedMemory - emptyMemory} B over the empty server), partitions ${keyMemory} B in all, largest ${Math.max(...sizes)} B, smallest ${Math.min(...sizes)} B\n`);
    expect(Math.max(...sizes)).toBeLessThan(8 * 1024);
  });
});

it('keeps a partition for the seconds until its Graph token is renewed, not longer', async () => {
  const token = await entra.userToken({ oid: 'ttl-user' });

  await postGraphQL(replicas[0]!.url, READ, {}, { token });

  const ttlS = await withProbe(async (probe) => probe.ttl((await probe.keys(`*${hashOf(token)}`))[0]!));
  // The simulator's Graph tokens live 3599 s, as Entra's; renewed 300 s before they expire.
  expect(ttlS).toBeGreaterThan(3599 - 300 - 30);
  expect(ttlS).toBeLessThanOrEqual(3599 - 300);
});
