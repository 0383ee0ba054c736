import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { GraphClient, type GraphClientOptions } from '../../src/graph/graph-client.js';
import type { GraphCallObserver } from '../../src/metrics/metrics.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';

/**
 * The Graph client alone, against the simulator or a scripted server, for the paths a whole
 * gateway cannot reach on cue: what happens between a mailbox slot being granted and the
 * exchange starting, and an answer refused for its announced size.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newCall() {
  return { caller: 'Bearer client-test', graphAuthorization: 'Bearer client-test', clientRequestId: 'c', stats: { attempts: 0, upstreamStatus: null } };
}

/** An observer that does nothing but what a test gives it to do when a call has waited for its slot. */
function onSlotGranted(action: () => void): GraphCallObserver {
  return { attempt: () => undefined, retry: () => undefined, mailboxWait: action, batch: () => undefined, batchItem: () => undefined, batchItemRetried: () => undefined };
}

function client(baseUrl: string, options: Partial<GraphClientOptions> = {}): GraphClient {
  const graph = new GraphClient({
    baseUrl,
    maxRetries: 0,
    maxRetryAfterS: 1,
    timeoutMs: 2000,
    deadlineMs: 10_000,
    mailbox: { concurrency: 1, queueLimit: 10 },
    userAgent: 'test',
    ...options,
  });
  cleanups.push(() => graph.close());
  return graph;
}

async function simulator(options: ConstructorParameters<typeof GraphSimulator>[0] = {}): Promise<GraphSimulator> {
  const graph = new GraphSimulator(options);
  await graph.listen();
  cleanups.push(() => graph.close());
  return graph;
}

async function codeOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => 'OK',
    (error: unknown) => (error instanceof GatewayError ? error.code : error),
  );
}

describe('a call granted its mailbox slot', () => {
  it('gives the slot back when its deadline passed while it waited', async () => {
    const graph = await simulator({ latencyMs: 50 });
    const deadlineMs = 200;
    const graphClient = client(graph.baseUrl, {
      deadlineMs,
      // The slot is granted; the deadline then passes before the exchange would start.
      observer: onSlotGranted(() => {
        const until = Date.now() + deadlineMs;
        while (Date.now() < until);
      }),
    });

    const [first, second] = await Promise.all([
      codeOf(graphClient.updateContactPhoto('mailbox', 'a', { height: 1 }, newCall())),
      codeOf(graphClient.updateContactPhoto('mailbox', 'b', { height: 2 }, newCall())),
    ]);

    expect([first, second]).toEqual(['OK', 'GATEWAY_TIMEOUT']);
    expect(graph.requests).toHaveLength(1);
    // The slot is free again: nothing is held, and the next call on the mailbox starts at once.
    expect(graphClient.mailboxUsage).toEqual({ mailboxes: 0, waiting: 0 });
    expect(await codeOf(graphClient.updateContactPhoto('mailbox', 'c', { height: 3 }, newCall()))).toBe('OK');
  });

  it('does not start its exchange when shutdown began while the slot was being granted', async () => {
    const graph = await simulator({ latencyMs: 50 });
    const shutdown = new AbortController();
    const graphClient = client(graph.baseUrl, {
      signal: shutdown.signal,
      timeoutMs: 60_000,
      deadlineMs: 60_000,
      observer: onSlotGranted(() => shutdown.abort()),
    });

    const [first, second] = await Promise.all([
      codeOf(graphClient.updateContactPhoto('mailbox', 'a', { height: 1 }, newCall())),
      codeOf(graphClient.updateContactPhoto('mailbox', 'b', { height: 2 }, newCall())),
    ]);

    expect([first, second]).toEqual(['OK', 'SHUTTING_DOWN']);
    expect(graph.requests.map((request) => request.contactId)).toEqual(['a']);
    expect(graphClient.mailboxUsage).toEqual({ mailboxes: 0, waiting: 0 });
  });
});

describe("Graph's answer", () => {
  it('is refused for an announced Content-Length over 1 MiB before its body is read', async () => {
    // Headers announcing 2 MiB, then one byte, then nothing: only the announcement can refuse it in time.
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
      response.write('{');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    // Without the check, the call would wait for the rest and time out (GATEWAY_TIMEOUT).
    const graphClient = client(`http://127.0.0.1:${port}/beta`, { timeoutMs: 3000, deadlineMs: 3000 });

    const failure = await graphClient.getContactPhoto('i', 'c', newCall()).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).extensions).toMatchObject({ code: 'BAD_GATEWAY', upstream: { status: 200 } });
    expect((failure as GatewayError).message).toMatch(/larger than 1 MiB/);
  });
});
