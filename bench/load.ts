/**
 * One load run with autocannon's programmatic API, and the statistics taken from it. Latencies
 * are collected from each response with sub-millisecond precision (autocannon's own histogram
 * rounds to whole milliseconds, too coarse for what a gateway adds).
 */
import autocannon from 'autocannon';

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
  /** Requests per second over all connections; as fast as possible when absent. */
  rate?: number;
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
    ...(options.rate !== undefined && { overallRate: options.rate }),
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
