import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { mailboxKeys, mailboxScripts } from '../../src/redis/mailbox-scripts.js';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../src/redis/redis-connection.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { GraphSimulator, type GraphSimulatorOptions } from '../../src/simulator/graph/graph-simulator.js';
import { gate } from '../support/gate.js';
import { UPDATE_PHOTO, errorCode, postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { killRunning, runCompiled, waitFor } from '../support/process.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { LogCapture } from '../support/stack.js';

/**
 * Several gateway replicas sharing Outlook's per-mailbox limit through a real redis-server,
 * against the simulator's Outlook mode: 4 requests in flight per mailbox, 50 ms each, and a 429
 * with Retry-After beyond.
 */

const OUTLOOK: GraphSimulatorOptions = { mailboxConcurrency: 4, latencyMs: 50, mailboxRetryAfterS: 1 };

interface Replica {
  gateway: Gateway;
  url: string;
  logs: LogCapture;
}

let redis: RedisServer;
let simulator: GraphSimulator;
let replicas: Replica[] = [];
let probe: Redis;

beforeAll(async () => {
  redis = await startRedis();
  probe = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  probe.on('error', () => undefined);
});
afterAll(async () => {
  probe.disconnect();
  await redis.stop();
});
afterEach(async () => {
  await killRunning();
  for (const replica of replicas.splice(0)) await replica.gateway.shutdown();
  await simulator?.close();
  if (redis) await probe.flushall().catch(() => undefined);
});

async function startSimulator(options: GraphSimulatorOptions = OUTLOOK): Promise<string> {
  simulator = new GraphSimulator(options);
  return simulator.listen();
}

async function readiness(replica: Replica): Promise<Record<string, unknown>> {
  return (await (await fetch(new URL('/readyz', replica.url))).json()) as Record<string, unknown>;
}

/** Replicas of the gateway on one Redis and one simulator, each waited for until its limit is shared. */
async function startReplicas(count: number, graphBaseUrl: string, env: Record<string, string> = {}): Promise<Replica[]> {
  const started: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const logs = new LogCapture();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, REDIS_URL: redis.url, ...env });
    const gateway = await createGateway(config, { logDestination: logs });
    const replica = { gateway, url: await gateway.listen(), logs };
    replicas.push(replica);
    started.push(replica);
  }
  for (const replica of started) await waitForShared(replica);
  return started;
}

async function waitForShared(replica: Replica, shared = true): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await readiness(replica))['mailboxLimit'] !== (shared ? 'shared' : 'local')) {
    if (Date.now() > deadline) throw new Error(`The replica's limit did not become ${shared ? 'shared' : 'local'}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function update(replica: Replica, invitationId: string, i: number): Promise<GraphQLResult> {
  return postGraphQL(replica.url, UPDATE_PHOTO, { invitationId, contactId: `contact-${i}`, input: { height: i + 1, width: i + 1 } }, { token: 'shared-token' });
}

/** `count` updates to one mailbox, spread over the replicas in turn. */
function burst(count: number, invitationId: string, over: Replica[] = replicas): Promise<GraphQLResult[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => update(over[i % over.length]!, invitationId, i)));
}

describe('replicas sharing the mailbox limit through Redis', () => {
  it('keep 4 in flight over 3 replicas: 120 concurrent updates to one mailbox all succeed with no upstream 429', async () => {
    await startReplicas(3, await startSimulator());

    const results = await burst(120, 'shared-mailbox');

    expect(results.filter((result) => result.body.errors === undefined)).toHaveLength(120);
    expect(simulator.throttledCount).toBe(0);
    expect(simulator.requests).toHaveLength(120);
  });

  it('keep 4 in flight over 3 replicas when lists and single calls hit one mailbox together: no upstream 429', async () => {
    const baseUrl = await startSimulator();
    const listed = await startReplicas(3, baseUrl);
    const contactIds = Array.from({ length: 30 }, (_, i) => `contact-${i}`);
    const list = (replica: Replica) =>
      postGraphQL(
        replica.url,
        'query List($invitationId: ID!, $contactIds: [ID!]!) { contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { id } }',
        { invitationId: 'listed-mailbox', contactIds },
        { token: 'shared-token' },
      );

    const [first, second, updates] = await Promise.all([list(listed[0]!), list(listed[1]!), burst(30, 'listed-mailbox')]);

    expect([first!, second!, ...updates].filter((result) => result.body.errors === undefined)).toHaveLength(32);
    expect(simulator.throttledCount).toBe(0);
    expect(simulator.requests.filter((request) => request.batchId !== undefined)).toHaveLength(60);
  });

  it('counts its round trips to Redis, and the leases it finds lost at a refresh', async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }), { GRAPH_MAILBOX_LEASE_MS: '300' });
    const held = gate();
    simulator.fail({ invitationId: 'lost-mailbox', holdUntil: held.closed });
    const call = update(replica!, 'lost-mailbox', 0);
    await waitFor(() => simulator.requests.length === 1);

    // Redis forgets the lease (a flush, a failover to a replica that had not seen it yet).
    await probe.del(mailboxKeys('lost-mailbox').leases);
    const deadline = Date.now() + 5000;
    while ((await metric(replica!.url, 'mailbox_limit_leases_lost_total')) < 1) {
      if (Date.now() > deadline) throw new Error('No lost lease was counted.');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    held.open();

    expect((await call).body.errors).toBeUndefined();
    expect(await metric(replica!.url, 'mailbox_limit_leases_lost_total')).toBe(1);
    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="acquire",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="refresh",outcome="ok"}')).toBeGreaterThanOrEqual(1);
  });

  it('without Redis, the same 3 replicas hit Outlook with 429s (what the shared limit prevents)', async () => {
    const graphBaseUrl = await startSimulator();
    for (let i = 0; i < 3; i++) {
      const logs = new LogCapture();
      const gateway = await createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl }), { logDestination: logs });
      replicas.push({ gateway, url: await gateway.listen(), logs });
    }

    await burst(120, 'unshared-mailbox');

    expect(simulator.throttledCount).toBeGreaterThan(0);
  });

  it("pauses the mailbox on every replica for a 429's Retry-After", async () => {
    const [first, second] = await startReplicas(2, await startSimulator({ latencyMs: 5 }));
    simulator.fail({ status: 429, retryAfter: '0.8', invitationId: 'paused-mailbox' });

    const throttled = update(first!, 'paused-mailbox', 0);
    // The pause is in Redis once the first replica has read the 429.
    const { pause } = mailboxKeys('paused-mailbox');
    const deadline = Date.now() + 5000;
    while ((await probe.pttl(pause)) <= 0) {
      if (Date.now() > deadline) throw new Error('No pause was set in Redis.');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const other = await update(second!, 'paused-mailbox', 1);

    expect(other.body.errors).toBeUndefined();
    expect((await throttled).body.errors).toBeUndefined();
    const [answered429, ...after] = simulator.requests;
    // Nothing reached Graph for this mailbox, from either replica, until Retry-After had passed.
    for (const request of after) expect(request.receivedAt - answered429!.receivedAt).toBeGreaterThanOrEqual(750);
  });

  it('caps the shared pause at GRAPH_MAX_RETRY_AFTER_S: one 429 asking for a day pauses no replica for a day', async () => {
    const [first] = await startReplicas(1, await startSimulator({ latencyMs: 1 }), { GRAPH_MAX_RETRY_AFTER_S: '2' });
    simulator.fail({ status: 429, retryAfter: '86400', invitationId: 'day-long-mailbox' });

    const throttled = await update(first!, 'day-long-mailbox', 0);

    expect(errorCode(throttled)).toBe('TOO_MANY_REQUESTS');
    const ttl = await probe.pttl(mailboxKeys('day-long-mailbox').pause);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
  });

  it('frees the slots of a replica killed with SIGKILL within the lease', async () => {
    const graphBaseUrl = await startSimulator({ latencyMs: 1 });
    const [survivor] = await startReplicas(1, graphBaseUrl, { GRAPH_MAILBOX_LEASE_MS: '1000' });
    const child = runCompiled('main.js', { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, REDIS_URL: redis.url, GRAPH_MAILBOX_LEASE_MS: '1000' });
    await child.printed('gateway listening');
    await child.printed('mailbox limit: shared through Redis');
    const childUrl = (JSON.parse(child.output().split('\n').find((line) => line.includes('gateway listening'))!) as { url: string }).url;
    // The child's four calls are held at Graph: it holds all four slots of the mailbox.
    const held = gate();
    simulator.fail({ invitationId: 'orphaned-mailbox', holdUntil: held.closed, times: 4 });
    const childCalls = Array.from({ length: 4 }, (_, i) =>
      postGraphQL(childUrl, UPDATE_PHOTO, { invitationId: 'orphaned-mailbox', contactId: `c${i}`, input: { height: 1 } }, { token: 't' }).catch(() => undefined),
    );
    await waitFor(() => simulator.requests.length === 4);
    expect(await probe.zcard(mailboxKeys('orphaned-mailbox').leases)).toBe(4);

    child.kill('SIGKILL');
    await child.exited;
    const started = performance.now();
    const result = await update(survivor!, 'orphaned-mailbox', 9);

    expect(result.body.errors).toBeUndefined();
    // It waited for the dead replica's leases to expire (1 s), not for ever.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(simulator.throttledCount).toBe(0);
    held.open();
    await Promise.all(childCalls);
  });

  it('shares the persisted-query cache: a hash registered on one replica runs on another', async () => {
    const [first, second] = await startReplicas(2, await startSimulator({}));
    const query = '{ __typename }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const persisted = (url: string, withQuery: boolean) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...(withQuery && { query }), extensions: { persistedQuery: { version: 1, sha256Hash } } }),
      }).then((response) => response.json());

    expect(await persisted(second!.url, false)).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
    expect(await persisted(first!.url, true)).toEqual({ data: { __typename: 'Query' } });
    expect(await persisted(second!.url, false)).toEqual({ data: { __typename: 'Query' } });
    // Registered by anyone, so never kept for ever: APQ_TTL_S (an hour by default) in Redis too.
    const ttl = await probe.pttl(`contact-photo-gateway:apq:apq:${sha256Hash}`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('keeps no persisted document over APQ_MAX_BYTES in Redis', async () => {
    const [replica] = await startReplicas(1, await startSimulator({}), { APQ_MAX_BYTES: '100' });
    const query = `{ __typename ${' '.repeat(200)}}`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');

    const response = await fetch(replica!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
    });

    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    expect(await probe.keys('contact-photo-gateway:apq:*')).not.toContainEqual(expect.stringContaining(sha256Hash));
  });
});

describe("the shared limit's own guarantees", () => {
  const slotsInRedis = (mailbox: string) => probe.zcard(mailboxKeys(mailbox).leases);

  it('keeps the slot of a Graph call that outlives its lease: no fifth call gets in meanwhile', async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }), { GRAPH_MAILBOX_LEASE_MS: '300' });
    const held = gate();
    simulator.fail({ invitationId: 'long-mailbox', holdUntil: held.closed, times: Infinity });
    const calls = burst(4, 'long-mailbox', [replica!]);
    await waitFor(() => simulator.requests.length === 4);
    const fifth = postGraphQL(replica!.url, UPDATE_PHOTO, { invitationId: 'long-mailbox', contactId: 'fifth', input: { height: 5 } }, { token: 'another-token' });

    try {
      // Five leases' worth of time: only refreshes (every lease / 3) keep the four slots held.
      await new Promise((resolve) => setTimeout(resolve, 1500));

      expect(simulator.requests).toHaveLength(4);
      expect(await slotsInRedis('long-mailbox')).toBe(4);
      expect(await metric(replica!.url, 'mailbox_limit_leases_lost_total')).toBe(0);
    } finally {
      // Failing or not, nothing stays held for the tests after this one.
      held.open();
    }
    expect([...(await calls), await fifth].every((result) => result.body.errors === undefined)).toBe(true);
    expect(simulator.requests).toHaveLength(5);
  });

  it('grants several slots in one acquire, all or none, and releases them together', async () => {
    const scripts = mailboxScripts(probe);
    const keys = mailboxKeys('batch-mailbox');

    expect(await scripts.acquire(keys, ['a', 'b'], 4, 5000)).toEqual([1, 0]);
    // Two held: three more do not fit under 4, and none of them is taken.
    const [granted] = await scripts.acquire(keys, ['c', 'd', 'e'], 4, 5000);
    expect(granted).toBe(0);
    expect(await probe.zrange(keys.leases, '0', '-1')).toEqual(['a', 'b']);
    expect(await scripts.acquire(keys, ['c', 'd'], 4, 5000)).toEqual([1, 0]);

    expect(await scripts.release(keys, ['a', 'c', 'd'])).toBe(3);
    expect(await probe.zrange(keys.leases, '0', '-1')).toEqual(['b']);
  });

  it("gives the leases key an expiry from the first acquire, so a dead replica's mailbox is forgotten", async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }));
    const held = gate();
    simulator.fail({ invitationId: 'expiring-mailbox', holdUntil: held.closed });
    const call = update(replica!, 'expiring-mailbox', 0);
    await waitFor(() => simulator.requests.length === 1);

    // Read at once: well before the first refresh (every 5 s / 3) could have set it instead.
    const ttl = await probe.pttl(mailboxKeys('expiring-mailbox').leases);
    held.open();
    await call;

    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * 5000);
  });

  it('lets GRAPH_MAILBOX_QUEUE calls wait behind the one asking Redis, and refuses the rest at once', async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }), { GRAPH_MAILBOX_QUEUE: '3' });
    const held = gate();
    simulator.fail({ invitationId: 'queued-mailbox', holdUntil: held.closed, times: Infinity });
    const inFlight = burst(4, 'queued-mailbox', [replica!]);
    await waitFor(() => simulator.requests.length === 4);

    // Ten more, each from a caller of its own (so that no caller's share is what refuses them).
    const more = Array.from({ length: 10 }, (_, i) =>
      postGraphQL(replica!.url, UPDATE_PHOTO, { invitationId: 'queued-mailbox', contactId: `more-${i}`, input: { height: 1 } }, { token: `caller-${i}` }),
    );
    const refused = await Promise.all(more.slice(4));
    held.open();

    expect(refused.every((result) => errorCode(result) === 'TOO_MANY_REQUESTS')).toBe(true);
    expect((await Promise.all(more.slice(0, 4))).every((result) => result.body.errors === undefined)).toBe(true);
    await inFlight;
    expect(simulator.requests).toHaveLength(8);
  });

  it('counts a round trip that failed as an error, not as a success', async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }));
    const okBefore = await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="acquire",outcome="ok"}');

    redis.signal('SIGSTOP');
    try {
      // The acquire times out (500 ms), the replica falls back to its own limit and answers.
      expect((await update(replica!, 'frozen-mailbox', 0)).body.errors).toBeUndefined();
    } finally {
      redis.signal('SIGCONT');
    }

    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="acquire",outcome="error"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="acquire",outcome="ok"}')).toBe(okBefore);
  });
});

describe('when Redis fails', () => {
  it('killed mid-burst: every call is still answered, and each replica falls back, logs it once and counts it', async () => {
    const all = await startReplicas(3, await startSimulator());

    const calls = burst(60, 'burst-mailbox');
    await waitFor(() => simulator.requests.length >= 8);
    redis.signal('SIGKILL');
    const results = await calls;

    expect(results).toHaveLength(60);
    for (const result of results) expect(result.body.data !== undefined || result.body.errors !== undefined).toBe(true);
    expect(results.filter((result) => result.body.errors === undefined).length).toBeGreaterThan(0);
    for (const replica of all) {
      await waitForShared(replica, false);
      expect(replica.logs.entries('mailbox limit: Redis unavailable, each replica keeps its own limit until it is back')).toHaveLength(1);
      expect(await metric(replica.url, 'mailbox_limit_fallbacks_total')).toBe(1);
      expect(await metric(replica.url, 'mailbox_limit_shared')).toBe(0);
    }

    // Back: each replica rejoins by itself, and the limit holds again.
    await redis.restart();
    for (const replica of all) await waitForShared(replica);
    simulator.reset();
    const again = await burst(60, 'rejoined-mailbox');
    expect(again.every((result) => result.body.errors === undefined)).toBe(true);
    expect(simulator.throttledCount).toBe(0);
    for (const replica of all) expect(replica.logs.entries('mailbox limit: Redis answers again, the limit is shared again')).toHaveLength(1);
  });

  it('frozen (SIGSTOP): no call hangs past the command timeout, and the limit is shared again once it thaws', async () => {
    const [replica] = await startReplicas(1, await startSimulator({ latencyMs: 1 }));
    redis.signal('SIGSTOP');
    try {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => update(replica!, 'frozen-mailbox', i)));
      const elapsed = performance.now() - started;

      expect(results.map(errorCode)).toEqual([undefined, undefined, undefined, undefined, undefined]);
      // The 500 ms command timeout, and then the local limit: far from a hang.
      expect(elapsed).toBeLessThan(3000);
      expect(await metric(replica!.url, 'mailbox_limit_shared')).toBe(0);
    } finally {
      redis.signal('SIGCONT');
    }
    await waitForShared(replica!);
    expect(await readiness(replica!)).toEqual({ status: 'ready', mailboxLimit: 'shared' });
  });

  it('stopped: a persisted-query lookup is a miss at once, not after the command timeout, and calls run on the per-process limit', async () => {
    const [replica] = await startReplicas(1, await startSimulator({}));
    // A hash never registered: the gateway asks Redis for it, and answers PERSISTED_QUERY_NOT_FOUND.
    const lookUp = () =>
      fetch(replica!.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
      }).then(async (response) => (await response.json()) as GraphQLResult['body']);
    // Warm: the first calls of a process are slow for reasons of their own.
    await lookUp();
    await update(replica!, 'down-mailbox', 0);
    await redis.stop();
    try {
      await waitForShared(replica!, false);
      // ioredis tries to reconnect every 100 ms, then 200, 300 ...: let its tries space out past
      // the command timeout, so that a command queued for a reconnect would wait out the timeout.
      await new Promise((resolve) => setTimeout(resolve, 3000));

      let total = 0;
      for (let i = 0; i < 6; i++) {
        const started = performance.now();
        const answer = await lookUp();
        total += performance.now() - started;
        expect(answer.errors![0]!.extensions!['code']).toBe('PERSISTED_QUERY_NOT_FOUND');
      }
      const updated = await update(replica!, 'down-mailbox', 1);

      // Six lookups in half the time one command timeout would take each (500 ms): a command
      // queued while disconnected waited for it (or for ioredis to give up on a reconnect).
      expect(total).toBeLessThan(3 * REDIS_COMMAND_TIMEOUT_MS);
      expect(updated.body.errors).toBeUndefined();
      expect(await readiness(replica!)).toEqual({ status: 'ready', mailboxLimit: 'local', mailboxLimitReason: 'disconnected' });
    } finally {
      await redis.restart();
    }
  });

  it('does not wait for Redis at start-up: a replica with Redis down serves with its own limit', async () => {
    await redis.stop();
    try {
      const logs = new LogCapture();
      const gateway = await createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: await startSimulator({}), REDIS_URL: redis.url }), {
        logDestination: logs,
      });
      const replica = { gateway, url: await gateway.listen(), logs };
      replicas.push(replica);

      const result = await update(replica, 'no-redis-mailbox', 0);

      expect(result.body.errors).toBeUndefined();
      expect(await readiness(replica)).toEqual({ status: 'ready', mailboxLimit: 'local', mailboxLimitReason: 'disconnected' });
    } finally {
      await redis.restart();
    }
  });
});
