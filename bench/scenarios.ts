/**
 * The scenarios of `npm run bench` beyond raw throughput: one throttled mailbox, and cold start.
 */
import { GraphSimulator } from '../src/simulator/graph/graph-simulator.js';
import { median } from './load.js';
import { rssMiB, startProcess } from './processes.js';
import type { Target } from './targets.js';

const UPDATE = 'mutation U($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) { updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) { id } }';

/** One update through a gateway: whether it was answered without errors. */
export function update(url: string, invitationId: string, contactId: string): Promise<boolean> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
    body: JSON.stringify({ query: UPDATE, variables: { invitationId, contactId, input: { height: 1, width: 1 } } }),
  }).then(
    async (response) => response.ok && ((await response.json()) as { errors?: unknown }).errors === undefined,
    () => false,
  );
}

/** Outlook's limit as the simulator keeps it: 4 in flight per mailbox, 50 ms each, 429 with `Retry-After: 1` beyond. */
export const THROTTLE = { calls: 100, concurrency: 4, latencyMs: 50 } as const;
/** ceil(100 / 4) x 50 ms: no client can do one mailbox's 100 calls faster. */
export const THROTTLE_LIMIT_MS = Math.ceil(THROTTLE.calls / THROTTLE.concurrency) * THROTTLE.latencyMs;

export interface ThrottledResult {
  target: string;
  successes: number;
  upstream429s: number;
  wallMs: number;
}

/** 100 concurrent updates to one mailbox, `rounds` times; the medians. */
export async function runThrottled(target: Target, rounds: number): Promise<ThrottledResult> {
  const simulator = new GraphSimulator({
    mailboxConcurrency: THROTTLE.concurrency,
    latencyMs: THROTTLE.latencyMs,
    mailboxRetryAfterS: 1,
    requestLogSize: 0,
  });
  // The 100 calls come from one caller, more than a caller's share (75) of the default mailbox
  // queue of 100, which refuses the rest at once by design (docs/graph-calls.md): the queue is
  // made to hold them all, as the lists scenario does, to measure the waiting itself.
  const running = await target.start(await simulator.listen(), { GRAPH_MAILBOX_QUEUE: String(2 * THROTTLE.calls) });
  const results: Array<Omit<ThrottledResult, 'target'>> = [];
  try {
    await update(running.url, 'warm-up-mailbox', 'warm-up');
    for (let round = 0; round < rounds; round++) {
      simulator.reset();
      const mailbox = `throttled-mailbox-${round}`;
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: THROTTLE.calls }, (_, i) => update(running.url, mailbox, `contact-${i}`)));
      results.push({
        successes: answers.filter(Boolean).length,
        upstream429s: simulator.throttledCount,
        wallMs: performance.now() - started,
      });
    }
  } finally {
    await running.stop();
    await simulator.close();
  }
  return {
    target: target.name,
    successes: median(results.map((result) => result.successes)),
    upstream429s: median(results.map((result) => result.upstream429s)),
    wallMs: median(results.map((result) => result.wallMs)),
  };
}

export interface ColdStartResult {
  target: string;
  /** From spawn to the first answered mutation. */
  firstAnswerMs: number;
  /** RSS right after that first answer. */
  rssMiB: number;
}

/** Spawns the target `runs` times and times its first answered mutation; the medians. */
export async function runColdStart(target: Target, graphBaseUrl: string, runs: number): Promise<ColdStartResult> {
  const firstAnswers: number[] = [];
  const rss: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const running = await target.start(graphBaseUrl);
    try {
      // The URL is known once the process says so; the mutation is what a caller waits for.
      while (!(await update(running.url, 'cold-mailbox', `cold-${run}`))) await new Promise((resolve) => setTimeout(resolve, 5));
      firstAnswers.push(performance.now() - started);
      rss.push(rssMiB(running.pid));
    } finally {
      await running.stop();
    }
  }
  return { target: target.name, firstAnswerMs: median(firstAnswers), rssMiB: median(rss) };
}

/** The simulator as its own process, for the throughput and latency runs. */
export function startSimulatorProcess() {
  return startProcess('dist/simulator/main.js', { SIMULATOR_PORT: '0' }, /GRAPH_BASE_URL=(\S+)/);
}
