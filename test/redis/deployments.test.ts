import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { mailboxKeys } from '../../src/redis/mailbox-scripts.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { gate } from '../support/gate.js';
import { waitFor } from '../support/process.js';
import { ACL_USER, startSentinelSet, startTlsRedis } from '../support/redis-deployments.js';
import { startRedis } from '../support/redis.js';
import { burst, readiness, startReplica, update, waitForLimit, waitForReason, type Replica } from '../support/replicas.js';

/**
 * The shared mailbox limit on the Redis that production runs: over TLS with a private CA, as an
 * ACL user, and through Sentinel, each a real redis-server started here. Two replicas, Outlook's
 * 4 in flight per mailbox at the simulator: a limit not shared would let 8 through, and 429s.
 */

let simulator: GraphSimulator;
const replicas: Replica[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.gateway.shutdown();
  await simulator?.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startReplicas(count: number, env: Record<string, string>, shared = true): Promise<Replica[]> {
  simulator = new GraphSimulator({ mailboxConcurrency: 4, latencyMs: 50, mailboxRetryAfterS: 1 });
  const graphBaseUrl = await simulator.listen();
  const started: Replica[] = [];
  for (let i = 0; i < count; i++) started.push(await startReplica(graphBaseUrl, env));
  replicas.push(...started);
  if (shared) for (const replica of started) await waitForLimit(replica, 'shared');
  return started;
}

/** 40 concurrent updates to one mailbox over the replicas: all succeed, none answered 429 upstream. */
async function expectLimitHolds(over: Replica[]): Promise<void> {
  const results = await burst(40, 'deployed-mailbox', over);
  expect(results.filter((result) => result.body.errors === undefined)).toHaveLength(40);
  expect(simulator.throttledCount).toBe(0);
}

describe('Redis over TLS (rediss://) with a private CA', () => {
  it('shares the limit when REDIS_TLS_CA_FILE names the CA that signed the server', async () => {
    const { server, caFile, dir } = await startTlsRedis();
    cleanups.push(() => server.stop(), () => rmSync(dir, { recursive: true, force: true }));

    await expectLimitHolds(await startReplicas(2, { REDIS_URL: server.url, REDIS_TLS_CA_FILE: caFile }));
  });

  it("keeps its own limit, and says why, when the server's certificate is not trusted (no REDIS_TLS_CA_FILE)", async () => {
    const { server, dir } = await startTlsRedis();
    cleanups.push(() => server.stop(), () => rmSync(dir, { recursive: true, force: true }));
    const [replica] = await startReplicas(1, { REDIS_URL: server.url }, false);

    await waitForReason(replica!, 'tls');
    // Given time to connect: it never does, and calls are still answered on the local limit.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await update(replica!, 'untrusted-mailbox', 0)).body.errors).toBeUndefined();
    expect(await readiness(replica!)).toEqual({ status: 'ready', mailboxLimit: 'local', mailboxLimitReason: 'tls' });
  });
});

describe('Redis with an ACL user (redis://user:password@)', () => {
  it('shares the limit as that user, the default user being off', async () => {
    const server = await startRedis(ACL_USER);
    cleanups.push(() => server.stop());

    await expectLimitHolds(await startReplicas(2, { REDIS_URL: `redis://gateway:gateway-secret@127.0.0.1:${server.port}` }));
  });

  it('a wrong password: one clear warning, calls answered on the local limit, /readyz saying auth, and no crash', async () => {
    const server = await startRedis(ACL_USER);
    cleanups.push(() => server.stop());
    const [replica] = await startReplicas(1, { REDIS_URL: `redis://gateway:not-the-password@127.0.0.1:${server.port}` }, false);

    await waitForReason(replica!, 'auth');
    // Several reconnects' worth of refusals.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const results = await Promise.all([0, 1, 2].map((i) => update(replica!, 'refused-mailbox', i)));

    expect(results.every((result) => result.body.errors === undefined)).toBe(true);
    const warnings = replica!.logs.entries().filter((entry) => Number(entry['level']) >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ reason: 'auth', msg: expect.stringContaining('the user or password of REDIS_URL was refused') });
    expect(replica!.logs.lines.join('\n')).not.toContain('not-the-password');
    expect(await readiness(replica!)).toEqual({ status: 'ready', mailboxLimit: 'local', mailboxLimitReason: 'auth' });
  });

  it('says local (auth), not shared, for a user that may connect and PING but not run scripts', async () => {
    const server = await startRedis([...ACL_USER, '--user', 'pinger', 'on', '>pinger-secret', '~*', '&*', '+@all', '-@scripting']);
    cleanups.push(() => server.stop());
    const [replica] = await startReplicas(1, { REDIS_URL: `redis://pinger:pinger-secret@127.0.0.1:${server.port}` }, false);

    await waitForReason(replica!, 'auth');
    // Past several probes (every lease / 3): it never claims the limit is shared.
    for (let i = 0; i < 20; i++) {
      expect(await readiness(replica!)).toEqual({ status: 'ready', mailboxLimit: 'local', mailboxLimitReason: 'auth' });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  });
});

describe('Redis through Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME)', () => {
  it("finds the primary through the Sentinel and shares the limit there, never on the primary's replica", async () => {
    const set = await startSentinelSet();
    cleanups.push(() => set.stop());
    const [first, second] = await startReplicas(2, { REDIS_SENTINELS: set.sentinel, REDIS_SENTINEL_NAME: set.name });
    const primary = new Redis(set.primary.url);
    cleanups.push(() => primary.disconnect());
    const held = gate();
    simulator.fail({ invitationId: 'sentinel-mailbox', holdUntil: held.closed });
    const call = update(first!, 'sentinel-mailbox', 0);
    await waitFor(() => simulator.requests.length === 1);

    // The lease is written on the primary (and the limit holds over both replicas).
    expect(await primary.zcard(mailboxKeys('sentinel-mailbox').leases)).toBe(1);
    held.open();
    await call;
    simulator.reset();
    await expectLimitHolds([first!, second!]);
    expect(first!.logs.entries('redis: connected')).toMatchObject([{ deployment: 'sentinel' }]);
  });
});
