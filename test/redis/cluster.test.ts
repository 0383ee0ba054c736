import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { mailboxKeys, mailboxScripts, SLOT_FREED_CHANNEL } from '../../src/redis/mailbox-scripts.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { startCluster, type RedisClusterSet } from '../support/redis-deployments.js';
import { errorCode, postGraphQL } from '../support/graphql.js';
import { twoColourImage } from '../support/images.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';
import { burst, readiness, startReplica, update, waitForLimit, type Replica } from '../support/replicas.js';

/**
 * The shared mailbox limit on a real Redis Cluster of three masters (no replicas), the gateway
 * given one node's URL only, against the simulator's Outlook mode (4 in flight per mailbox).
 */

let cluster: RedisClusterSet;
let probe: Cluster;
let simulator: GraphSimulator;
const replicas: Replica[] = [];
const PHOTO = `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id url(size: 48) } }`;

beforeAll(async () => {
  cluster = await startCluster();
  probe = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], { redisOptions: { maxRetriesPerRequest: 1 } });
  probe.on('error', () => undefined);
  await new Promise((resolve) => probe.once('ready', resolve));
});
afterAll(async () => {
  probe?.disconnect();
  await cluster?.stop();
});
afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.gateway.shutdown();
  await simulator?.close();
});

async function startReplicas(count: number, env: Record<string, string> = {}): Promise<Replica[]> {
  simulator = new GraphSimulator({ mailboxConcurrency: 4, latencyMs: 50, mailboxRetryAfterS: 1 });
  const graphBaseUrl = await simulator.listen();
  const started: Replica[] = [];
  for (let i = 0; i < count; i++) {
    // Each given a different node: any node will do. At debug level, a replica that does not
    // share the limit in time shows its connections' errors (test/support/replicas.ts).
    const replica = await startReplica(graphBaseUrl, { REDIS_URL: cluster.nodes[i % 3]!.url, LOG_LEVEL: 'debug', ...env });
    replicas.push(replica);
    started.push(replica);
  }
  for (const replica of started) await waitForLimit(replica, 'shared');
  return started;
}

/** The master (its port) that serves a key's slot. */
async function masterOf(key: string): Promise<string> {
  const slot = Number(await probe.cluster('KEYSLOT', key));
  return probe.slots[slot]![0]!;
}

/** One mailbox per master (their keys' slots on three different nodes), `prefix` naming them. */
async function mailboxPerMaster(prefix: string): Promise<string[]> {
  const byMaster = new Map<string, string>();
  for (let i = 0; byMaster.size < 3; i++) {
    const mailbox = `${prefix}-${i}`;
    const master = await masterOf(mailboxKeys(mailbox).leases);
    if (!byMaster.has(master)) byMaster.set(master, mailbox);
  }
  return [...byMaster.values()];
}

describe('on a Redis Cluster of three masters', () => {
  it('learns from the one node REDIS_URL names that it is a cluster, and keeps 4 in flight per mailbox over 3 replicas: 80 concurrent updates on each of 4 mailboxes over the 3 masters, no upstream 429', async () => {
    const mailboxes = [...(await mailboxPerMaster('spread')), 'spread-extra'];
    const all = await startReplicas(3);

    const results = await Promise.all(mailboxes.map((mailbox) => burst(80, mailbox, all)));

    expect(results.flat().filter((result) => result.body.errors === undefined)).toHaveLength(320);
    expect(simulator.throttledCount).toBe(0);
    expect(simulator.requests).toHaveLength(320);
    for (const replica of all) {
      expect(await readiness(replica)).toEqual({ status: 'ready', mailboxLimit: 'shared' });
      expect(replica.logs.entries('redis: connected')).toMatchObject([{ deployment: 'cluster' }]);
      expect(replica.logs.entries('mailbox limit: Redis unavailable, each replica keeps its own limit until it is back')).toHaveLength(0);
    }
  });

  it("wakes a call waiting on one master's mailbox with the release published on any node", async () => {
    const mailboxes = await mailboxPerMaster('woken');
    // Leases of 20 s: a waiter not woken by the publish would sleep until they expire.
    const [replica] = await startReplicas(1, { GRAPH_MAILBOX_LEASE_MS: '20000' });
    // Its subscription is made once its subscriber connects, maybe after the limit is shared: waited for.
    const subscribers = async () => {
      let count = 0;
      for (const node of probe.nodes('master')) count += Number(((await node.pubsub('NUMSUB', SLOT_FREED_CHANNEL)) as [string, number])[1]);
      return count;
    };
    const deadline = Date.now() + 5000;
    while ((await subscribers()) < 1) {
      if (Date.now() > deadline) throw new Error('The replica never subscribed to freed slots.');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const scripts = mailboxScripts(probe);
    for (const mailbox of mailboxes) expect(await scripts.acquire(mailboxKeys(mailbox), ['a', 'b', 'c', 'd'], 4, 20_000)).toEqual([1, 0]);
    const calls = mailboxes.map((mailbox, i) => update(replica!, mailbox, i));
    // Every call has been refused once (its "someone waits" marker is set).
    for (const mailbox of mailboxes) {
      const deadline = Date.now() + 5000;
      while ((await probe.exists(mailboxKeys(mailbox).waiting)) === 0) {
        if (Date.now() > deadline) throw new Error(`No call waited on ${mailbox}.`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    for (const mailbox of mailboxes) await scripts.release(mailboxKeys(mailbox), ['a']);
    const results = await Promise.all(calls);

    expect(results.every((result) => result.body.errors === undefined)).toBe(true);
    // Woken by the release, not by expiry: the other three leases of each mailbox are still held.
    for (const mailbox of mailboxes) expect(await probe.zrange(mailboxKeys(mailbox).leases, '0', '-1')).toEqual(['b', 'c', 'd']);
  });

  it('a master killed mid-run: every call is answered, each replica falls back saying why, and shares the limit again once the master is back', async () => {
    const mailboxes = await mailboxPerMaster('failing');
    const all = await startReplicas(3);
    const victim = cluster.nodes.find(({ port }) => port !== cluster.nodes[0]!.port && port !== cluster.nodes[1]!.port)!;

    const calls = Promise.all(mailboxes.map((mailbox) => burst(80, mailbox, all)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await victim.kill();
    const results = (await calls).flat();

    expect(results).toHaveLength(240);
    for (const result of results) expect(result.body.data !== undefined || result.body.errors !== undefined).toBe(true);
    expect(results.filter((result) => result.body.errors === undefined).length).toBeGreaterThan(0);
    for (const replica of all) {
      const ready = await waitForLimit(replica, 'local');
      expect(['disconnected', 'timeout', 'clusterdown', 'moved']).toContain(ready['mailboxLimitReason']);
    }

    await victim.restart();
    await cluster.healthy();
    for (const replica of all) await waitForLimit(replica, 'shared', 20_000);
    simulator.reset();
    const again = await Promise.all(mailboxes.map((mailbox) => burst(40, `${mailbox}`, all)));
    expect(again.flat().every((result) => result.body.errors === undefined)).toBe(true);
    expect(simulator.throttledCount).toBe(0);
  });

  it("shares the photo cache: a picture read through one replica is served by another, and by the URL it gave, without Graph", async () => {
    const [first, second] = await startReplicas(2, { PHOTO_URL_SECRET: 'cluster-photo-cache-secret-of-32-characters' });
    const ids = { invitationId: 'cached-on-cluster', contactId: 'contact-0' };
    const png = await (await twoColourImage(64, 64)).png().toBuffer();
    expect((await postUpload(first!.url, UPLOAD_PHOTO, ids, png, { token: 'cache-token' })).body.errors).toBeUndefined();
    const read = async (replica: Replica) => {
      const result = await postGraphQL(replica.url, PHOTO, ids, { token: 'cache-token' });
      expect(result.body.errors).toBeUndefined();
      return result.body.data!['contactPhoto'] as { id: string; url: string };
    };
    const photoReads = () => simulator.requests.filter((request) => request.method === 'GET' && request.contactId !== undefined).length;

    const fromGraph = await read(first!);
    const before = photoReads();

    const fromCache = await read(second!);
    const picture = await fetch(new URL(fromGraph.url, second!.url));

    expect(fromCache).toEqual(fromGraph);
    expect(photoReads()).toBe(before);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toBe('image/jpeg');
  });

  it("counts Outlook's request budget over replicas on the cluster: the 31st of 30 per window is refused on any replica, unsent", async () => {
    const mailboxes = await mailboxPerMaster('budgeted');
    const all = await startReplicas(3, { GRAPH_MAILBOX_REQUEST_BUDGET: '30', GRAPH_MAILBOX_REQUEST_WINDOW_S: '60' });

    // Each mailbox's count in its own master's slot: 30 pass over the 3 replicas, the next is refused.
    for (const mailbox of mailboxes) {
      const results = await burst(30, mailbox, all);
      expect(results.filter((result) => result.body.errors === undefined)).toHaveLength(30);
      expect(errorCode(await update(all[1]!, mailbox, 30))).toBe('TOO_MANY_REQUESTS');
    }

    expect(simulator.requests).toHaveLength(90);
    for (const replica of all) expect(await readiness(replica)).toEqual({ status: 'ready', mailboxLimit: 'shared' });
  });
});
