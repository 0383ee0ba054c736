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
