import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { budgetKeys } from '../../src/redis/budget-script.js';
import { mailboxKeys } from '../../src/redis/mailbox-scripts.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { UPDATE_PHOTO, errorCode, postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { waitFor } from '../support/process.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { LogCapture } from '../support/stack.js';

/**
 * Outlook's request budget shared by gateway replicas through a real redis-server: 30 requests
 * per mailbox per 5-second window, small enough to reach in a test.
 */

const BUDGET = { GRAPH_MAILBOX_REQUEST_BUDGET: '30', GRAPH_MAILBOX_REQUEST_WINDOW_S: '5' };

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
  for (const replica of replicas.splice(0)) await replica.gateway.shutdown();
  await simulator?.close();
  await probe.flushall().catch(() => undefined);
});

/** Replicas on one Redis and one simulator, each waited for until Redis answers it (its mailbox limit says "shared"). */
async function startReplicas(count: number): Promise<Replica[]> {
  simulator = new GraphSimulator({ latencyMs: 1 });
  const graphBaseUrl = await simulator.listen();
  for (let i = 0; i < count; i++) {
    const logs = new LogCapture();
    const gateway = await createGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, REDIS_URL: redis.url, ...BUDGET }), {
      logDestination: logs,
    });
    replicas.push({ gateway, url: await gateway.listen(), logs });
  }
  for (const replica of replicas) await waitForShared(replica, true);
  return replicas;
}

async function waitForShared(replica: Replica, shared: boolean): Promise<void> {
  const wanted = shared ? 'shared' : 'local';
  const deadline = Date.now() + 10_000;
  while (((await (await fetch(new URL('/readyz', replica.url))).json()) as Record<string, unknown>)['mailboxLimit'] !== wanted) {
    if (Date.now() > deadline) throw new Error(`The replica's limit did not become ${wanted}.`);
    await sleep(20);
  }
}

function update(replica: Replica, invitationId: string, i: number): Promise<GraphQLResult> {
  return postGraphQL(replica.url, UPDATE_PHOTO, { invitationId, contactId: `contact-${i}`, input: { height: i + 1, width: i + 1 } }, { token: 'budget-token' });
}

/** `count` updates to one mailbox, one after another, over the replicas in turn. */
async function updates(count: number, invitationId: string, over: Replica[]): Promise<GraphQLResult[]> {
  const results: GraphQLResult[] = [];
  for (let i = 0; i < count; i++) results.push(await update(over[i % over.length]!, invitationId, i));
  return results;
}

const succeeded = (results: GraphQLResult[]) => results.filter((result) => result.body.errors === undefined).length;

describe("Outlook's request budget shared by replicas through Redis", () => {
  it('answers the 31st request of a 30-per-5-s budget on either of two replicas with TOO_MANY_REQUESTS and the right retryAfter, unsent, and serves again once the window has moved on', async () => {
    const [first, second] = await startReplicas(2);
    const started = Date.now();
    expect(succeeded(await updates(30, 'shared-budget', [first!, second!]))).toBe(30);
    const sinceFirst = (Date.now() - started) / 1000;

    const refused = [await update(first!, 'shared-budget', 30), await update(second!, 'shared-budget', 31)];

    expect(refused.map(errorCode)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    const retryAfter = refused[0]!.body.errors![0]!.extensions!['retryAfter'] as number;
    // The first request leaves the window 5 s after it (and at most a bucket, 0.1 s, later).
    expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, Math.floor(5 - sinceFirst)));
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(simulator.requests).toHaveLength(30);
    expect(await metric(second!.url, 'graph_mailbox_budget_refusals_total{budget="requests"}')).toBe(1);
    expect(await metric(second!.url, 'graph_mailbox_request_budget_left')).toBe(0);

    await sleep(retryAfter * 1000);
    expect(errorCode(await update(second!, 'shared-budget', 32))).toBeUndefined();
  });

  it('costs one round trip to Redis per Graph request, in the slot of the mailbox limit', async () => {
    const [replica] = await startReplicas(1);

    expect(succeeded(await updates(20, 'counted-budget', [replica!]))).toBe(20);

    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="budget",outcome="ok"}')).toBe(20);
    const tag = `{${mailboxKeys('counted-budget').tag}}`;
    expect(budgetKeys('counted-budget').requests).toContain(tag);
    expect(budgetKeys('counted-budget').uploads).toContain(tag);
    expect(await probe.exists(budgetKeys('counted-budget').requests)).toBe(1);
    // The window and a bucket: the key of an idle mailbox goes by itself.
    expect(await probe.pttl(budgetKeys('counted-budget').requests)).toBeLessThanOrEqual(5100);
  });

  it('with Redis down, serves on each replica\'s own count with one warning, and shares the count again once Redis is back', async () => {
    const [replica] = await startReplicas(1);
    redis.signal('SIGKILL');
    await waitForShared(replica!, false);

    expect(succeeded(await updates(5, 'down-budget', [replica!]))).toBe(5);
    expect(replica!.logs.entries('mailbox budgets: Redis unavailable, each replica counts its own until it is back')).toHaveLength(1);

    await redis.restart();
    await waitForShared(replica!, true);
    await waitFor(() => replica!.logs.entries('mailbox budgets: Redis answers again, the budgets are shared again').length === 1, 10_000);
    expect(succeeded(await updates(1, 'down-budget', [replica!]))).toBe(1);
    expect(await probe.exists(budgetKeys('down-budget').requests)).toBe(1);
  });

  it('frozen (SIGSTOP): a budget check that times out lets the call go on this replica\'s own count, counted as an error', async () => {
    const [replica] = await startReplicas(1);
    redis.signal('SIGSTOP');
    try {
      expect(succeeded(await updates(2, 'frozen-budget', [replica!]))).toBe(2);
    } finally {
      redis.signal('SIGCONT');
    }

    expect(await metric(replica!.url, 'mailbox_limit_redis_seconds_count{operation="budget",outcome="error"}')).toBe(1);
    const [warning] = replica!.logs.entries('mailbox budgets: Redis unavailable, each replica counts its own until it is back');
    expect(warning).toMatchObject({ reason: 'a command to Redis failed or timed out' });
  });
});
