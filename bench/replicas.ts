/**
 * The replica scenario of `npm run bench` (when `redis-server` is on PATH): three gateway
 * processes sharing one mailbox's limit through a real Redis, against three that each keep their
 * own (and sharing it through a three-master Redis Cluster); and one gateway with Redis against one without, over 1,000 mailboxes, for what the shared
 * limit costs.
 */
import { spawnSync } from 'node:child_process';
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { startCluster } from '../test/support/redis-deployments.js';
import { startRedis } from '../test/support/redis.js';
import { median, runLoad } from './load.js';
import type { RunningProcess } from './processes.js';
import { THROTTLE, update } from './scenarios.js';
import { startGatewayProcess, TARGETS } from './targets.js';

export const REPLICAS = { count: 3, calls: 120, rounds: 3, throughputRounds: 5, durationS: 5, connections: 100 } as const;
/** ceil(120 / 4) x 50 ms: no set of replicas can do one mailbox's 120 calls faster. */
export const REPLICAS_LIMIT_MS = Math.ceil(REPLICAS.calls / THROTTLE.concurrency) * THROTTLE.latencyMs;

export interface BurstResult {
  successes: number;
  upstream429s: number;
  wallMs: number;
}

export interface ReplicasResult {
  shared: BurstResult;
  /** The same, the replicas given one node of a three-master Redis Cluster. */
  onCluster: BurstResult;
  perProcess: BurstResult;
  /** req/s over 1,000 mailboxes by round: with Redis, and the same gateway without. */
  withRedisRounds: number[];
  withoutRedisRounds: number[];
}

function startGateway(graphBaseUrl: string, redisUrl?: string): Promise<RunningProcess> {
  return startGatewayProcess(graphBaseUrl, redisUrl ? { REDIS_URL: redisUrl } : {});
}

async function shared(url: string): Promise<void> {
  while (((await (await fetch(new URL('/readyz', url))).json()) as { mailboxLimit?: string }).mailboxLimit !== 'shared') {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** 120 concurrent updates to one mailbox spread over the replicas, `rounds` times; the medians. */
async function burst(redisUrl: string | undefined): Promise<BurstResult> {
  const simulator = new GraphSimulator({ mailboxConcurrency: THROTTLE.concurrency, latencyMs: THROTTLE.latencyMs, mailboxRetryAfterS: 1, requestLogSize: 0 });
  const graphBaseUrl = await simulator.listen();
  const replicas = await Promise.all(Array.from({ length: REPLICAS.count }, () => startGateway(graphBaseUrl, redisUrl)));
  const results: BurstResult[] = [];
  try {
    if (redisUrl) await Promise.all(replicas.map((replica) => shared(replica.url)));
    for (const replica of replicas) await update(replica.url, 'warm-up-mailbox', 'warm-up');
    for (let round = 0; round < REPLICAS.rounds; round++) {
      simulator.reset();
      const mailbox = `replicated-mailbox-${round}`;
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: REPLICAS.calls }, (_, i) => update(replicas[i % replicas.length]!.url, mailbox, `contact-${i}`)),
      );
      results.push({ successes: answers.filter(Boolean).length, upstream429s: simulator.throttledCount, wallMs: performance.now() - started });
    }
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await simulator.close();
  }
  return {
    successes: median(results.map((result) => result.successes)),
    upstream429s: median(results.map((result) => result.upstream429s)),
    wallMs: median(results.map((result) => result.wallMs)),
  };
}

/** `undefined` (said in the log) when redis-server is not installed. */
export async function runReplicas(graphBaseUrl: string, log: (line: string) => void): Promise<ReplicasResult | undefined> {
  if (spawnSync('redis-server', ['--version']).error) {
    log('  redis-server is not on PATH: the replica scenario is left out (apt-get install redis-server).');
    return undefined;
  }
  const redis = await startRedis();
  try {
    const sharedBurst = await burst(redis.url);
    log(`  3 replicas with Redis: ${sharedBurst.successes}/${REPLICAS.calls}, ${sharedBurst.upstream429s} upstream 429s, ${Math.round(sharedBurst.wallMs)} ms`);
    const cluster = await startCluster();
    let onCluster: BurstResult;
    try {
      onCluster = await burst(cluster.nodes[0]!.url);
    } finally {
      await cluster.stop();
    }
    log(`  3 replicas with a Redis Cluster: ${onCluster.successes}/${REPLICAS.calls}, ${onCluster.upstream429s} upstream 429s, ${Math.round(onCluster.wallMs)} ms`);
    const perProcess = await burst(undefined);
    log(`  3 replicas without: ${perProcess.successes}/${REPLICAS.calls}, ${perProcess.upstream429s} upstream 429s, ${Math.round(perProcess.wallMs)} ms`);

    // Throughput over 1,000 mailboxes, alternating, each round with its own order.
    const workload = TARGETS.find((target) => target.name === 'this gateway')!.workload;
    const withRedis = await startGateway(graphBaseUrl, redis.url);
    const withoutRedis = await startGateway(graphBaseUrl);
    const withRedisRounds: number[] = [];
    const withoutRedisRounds: number[] = [];
    try {
      await shared(withRedis.url);
      for (const gateway of [withRedis, withoutRedis]) await runLoad(workload(gateway.url), { connections: REPLICAS.connections, durationS: 2 });
      for (let round = 0; round < REPLICAS.throughputRounds; round++) {
        const order = round % 2 === 0 ? [true, false] : [false, true];
        for (const useRedis of order) {
          const load = await runLoad(workload((useRedis ? withRedis : withoutRedis).url), { connections: REPLICAS.connections, durationS: REPLICAS.durationS });
          (useRedis ? withRedisRounds : withoutRedisRounds).push(Math.round(load.requestsPerSecond));
          log(`  round ${round + 1} ${useRedis ? 'with' : 'without'} Redis: ${Math.round(load.requestsPerSecond)} req/s, errors ${load.errors}`);
        }
      }
    } finally {
      await withRedis.stop();
      await withoutRedis.stop();
    }
    return { shared: sharedBurst, onCluster, perProcess, withRedisRounds, withoutRedisRounds };
  } finally {
    await redis.stop();
  }
}
