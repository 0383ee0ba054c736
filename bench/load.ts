/**
 * Load runs and the statistics taken from them: as fast as possible with autocannon's
 * programmatic API, and at a fixed, evenly paced rate with an open-loop generator of our own.
 * Latencies are collected from each response with sub-millisecond precision (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for what a gateway adds).
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Workload {
  /** Where autocannon connects. */
  url: string;
  /** The request for the nth call: calls spread over many mailboxes, as real traffic does. */
  request(n: number): { method: 'POST' | 'PATCH'; path: string; body: string; headers: Record<string, string> };
  /** Whether an answer's body is the success it should be (a GraphQL error is a 200 too). */
  isSuccess(body: string): boolean;
}

export interface LoadOptions {
  connections: number;
  durationS: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors, timeouts, non-2xx answers and 2xx answers that are not the success. */
  errors: number;
  requests: number;
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export async function runLoad(workload: Workload, options: LoadOptions): Promise<LoadResult> {
  let n = 0;
  let wrongBodies = 0;
  const latencies: number[] = [];
  const settings: autocannon.Options = {
    url: workload.url,
    connections: options.connections,
    duration: options.durationS,
    requests: [
      {
        setupRequest: (request) => ({ ...request, ...workload.request(n++) }),
        onResponse: (status, body) => {
          if (status >= 200 && status < 300 && !workload.isSuccess(body)) wrongBodies++;
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(settings, (error: unknown, done: autocannon.Result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
      latencies.push(responseTimeMs);
    });
  });
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: result.requests.total / options.durationS,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors: result.errors + result.non2xx + wrongBodies,
    requests: result.requests.total,
  };
}

/**
 * Sends `rate` requests per second, evenly spaced, for `warmUpS` and then `durationS`, whatever
 * the answers' pace (open loop), and measures each call after the warm-up from its send to its
 * answer. autocannon's own rate limit releases each second's budget at once, as a burst, which
 * measures queueing rather than the latency a gateway adds at a moderate rate. The warm-up (same
 * pace, same connections, not measured) keeps each round's first calls, which open connections
 * on both of the target's sides after it sat idle, out of a steady-state figure: how fast a
 * target comes up is the cold-start scenario's measure.
 */
export async function runPaced(workload: Workload, options: { rate: number; durationS: number; warmUpS: number }): Promise<LoadResult> {
  const origin = new URL(workload.url).origin;
  const pool = new Pool(origin, { connections: 32 });
  const intervalMs = 1000 / options.rate;
  const warmUp = Math.round(options.rate * options.warmUpS);
  const total = warmUp + Math.round(options.rate * options.durationS);
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  let measuredFrom = started;
  for (let n = 0; n < total; n++) {
    const due = started + n * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const { method, path, body, headers } = workload.request(n);
    const sent = performance.now();
    if (n === warmUp) measuredFrom = sent;
    const measured = n >= warmUp;
    inFlight.push(
      pool.request({ method, path, body, headers }).then(
        async (response) => {
          const text = await response.body.text();
          if (response.statusCode < 200 || response.statusCode > 299 || !workload.isSuccess(text)) errors++;
          else if (measured) latencies.push(performance.now() - sent);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - measuredFrom) / 1000;
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: latencies.length / elapsedS,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
    requests: total,
  };
}
