import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { GraphClient, MAX_JSON_RESPONSE_BYTES, MAX_PHOTO_RESPONSE_BYTES, type GraphClientOptions } from '../../src/graph/graph-client.js';
import type { GraphCallObserver } from '../../src/graph/graph-call-observer.js';
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
  return { attempt: () => undefined, retry: () => undefined, mailboxWait: action, batch: () => undefined, batchItem: () => undefined, batchItemRetried: () => undefined, budgetRefused: () => undefined };
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

/** A scripted Graph on a loopback port: `handle` answers every request; the base URL ends in `/beta`. */
async function scriptedGraph(handle: (request: http.IncomingMessage, body: string, response: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/beta`;
}

/** A photo's metadata as Graph's JSON, padded with spaces to exactly `size` bytes. */
function photoJsonOf(size: number): Buffer {
  const json = JSON.stringify({ '@odata.type': '#microsoft.graph.profilePhoto', id: '1X1', height: 1, width: 1 });
  return Buffer.concat([Buffer.from(json), Buffer.alloc(size - json.length, ' ')]);
}

/** Bytes that read as a JPEG (its signature), `size` of them. */
function pictureOf(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x55);
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return bytes;
}

/** Writes `body` with its Content-Length, or in chunks without one (`announced` false). */
function answer(response: http.ServerResponse, contentType: string, body: Buffer, announced: boolean): void {
  response.writeHead(200, { 'content-type': contentType, ...(announced && { 'content-length': String(body.length) }) });
  if (announced) return void response.end(body);
  for (let start = 0; start < body.length; start += 64 * 1024) response.write(body.subarray(start, start + 64 * 1024));
  response.end();
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

describe('a mailbox slot', () => {
  const thrown = new Error('the observer failed');

  /** An observer that throws `thrown` the first time `method` is called, and does nothing otherwise. */
  function throwingOnce(method: keyof GraphCallObserver): GraphCallObserver {
    let thrownYet = false;
    const observer = onSlotGranted(() => undefined);
    (observer as unknown as Record<string, () => void>)[method] = () => {
      if (thrownYet) return;
      thrownYet = true;
      throw thrown;
    };
    return observer;
  }

  const update = (graphClient: GraphClient, contactId: string) => codeOf(graphClient.updateContactPhoto('mailbox', contactId, { height: 1 }, newCall()));
  const readTwo = (graphClient: GraphClient) =>
    graphClient.readPhotos(['a', 'b'].map((contactId) => ({ invitationId: 'mailbox', contactId, part: 'metadata' as const })), newCall());

  // Each way the observer is told something while a call holds the one slot of its mailbox: the
  // attempt's answer, the wait for the slot (told once the slot is granted), and a batch's
  // answer and its items (told while the batch settles).
  it.each([
    ['attempt', (graphClient: GraphClient) => Promise.all([update(graphClient, 'a')]), [thrown]],
    ['mailboxWait', (graphClient: GraphClient) => Promise.all([update(graphClient, 'a'), update(graphClient, 'b')]), ['OK', thrown]],
    ['batch', readTwo, [thrown, thrown]],
    ['batchItem', readTwo, [thrown, thrown]],
  ] as const)('comes back when the observer throws from %s', async (method, calls, outcomes) => {
    const graph = await simulator({ latencyMs: 50 });
    // One slot per mailbox: had the failed call kept it, the next call would wait out its deadline.
    const graphClient = client(graph.baseUrl, { deadlineMs: 3000, observer: throwingOnce(method) });

    expect(await calls(graphClient)).toEqual(outcomes);

    expect(await update(graphClient, 'c')).toBe('OK');
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

describe("the size limits of Graph's answers", () => {
  // Megabytes over loopback: time enough for a machine busy with other suites.
  const roomy = { timeoutMs: 15_000, deadlineMs: 15_000 };

  it.each([
    ['announced with Content-Length', true],
    ['streamed without Content-Length', false],
  ])('accepts a JSON answer of exactly 1 MiB and refuses one byte more (%s)', async (_how, announced) => {
    let size = MAX_JSON_RESPONSE_BYTES;
    const graphClient = client(await scriptedGraph((_request, _body, response) => answer(response, 'application/json', photoJsonOf(size), announced)), roomy);
    expect(MAX_JSON_RESPONSE_BYTES).toBe(1024 * 1024);

    const exactly = await graphClient.getContactPhoto('i', 'c', newCall());
    size += 1;
    const over = await graphClient.getContactPhoto('i', 'c', newCall()).catch((error: unknown) => error);

    expect(exactly).toEqual({ id: '1X1', height: 1, width: 1 });
    expect(over).toBeInstanceOf(GatewayError);
    expect((over as GatewayError).extensions).toMatchObject({ code: 'BAD_GATEWAY', upstream: { status: 200 } });
    expect((over as GatewayError).message).toMatch(/larger than 1 MiB/);
  });

  it('accepts a picture of exactly 4 MB and 64 KiB and refuses one byte more', async () => {
    let size = MAX_PHOTO_RESPONSE_BYTES;
    const graphClient = client(await scriptedGraph((_request, _body, response) => answer(response, 'image/jpeg', pictureOf(size), true)), roomy);
    expect(MAX_PHOTO_RESPONSE_BYTES).toBe(4 * 1024 * 1024 + 64 * 1024);

    const exactly = await graphClient.getContactPhotoValue('i', 'c', newCall());
    size += 1;
    const over = await graphClient.getContactPhotoValue('i', 'c', newCall()).catch((error: unknown) => error);

    expect(exactly?.bytes.length).toBe(MAX_PHOTO_RESPONSE_BYTES);
    expect(over).toBeInstanceOf(GatewayError);
    expect((over as GatewayError).extensions).toMatchObject({ code: 'BAD_GATEWAY', upstream: { status: 200 } });
  });

  it("allows a batch carrying pictures in base64 about 4/3 of the pictures' bytes, and refuses a batch beyond it", async () => {
    let pictureBytes = MAX_PHOTO_RESPONSE_BYTES;
    const graphClient = client(
      await scriptedGraph((_request, body, response) => {
        const { requests } = JSON.parse(body) as { requests: Array<{ id: string }> };
        const picture = pictureOf(pictureBytes).toString('base64');
        const responses = requests.map(({ id }) => ({ id, status: 200, headers: { 'Content-Type': 'image/jpeg' }, body: picture }));
        answer(response, 'application/json', Buffer.from(JSON.stringify({ responses })), true);
      }),
      roomy,
    );
    const reads = ['a', 'b'].map((contactId) => ({ invitationId: 'i', contactId, part: 'value' as const }));

    const largest = await graphClient.readPhotos(reads, newCall());
    // A fifth more: its base64 is past what two of Graph's largest pictures take.
    pictureBytes = Math.ceil(MAX_PHOTO_RESPONSE_BYTES * 1.2);
    const beyond = await graphClient.readPhotos(reads, newCall());

    expect(largest.map((result) => (result instanceof Error ? result.message : result && 'bytes' in result && result.bytes.length))).toEqual([
      MAX_PHOTO_RESPONSE_BYTES,
      MAX_PHOTO_RESPONSE_BYTES,
    ]);
    for (const result of beyond) {
      expect(result).toBeInstanceOf(GatewayError);
      expect((result as GatewayError).extensions).toMatchObject({ code: 'BAD_GATEWAY', upstream: { status: 200 } });
      expect((result as GatewayError).message).toMatch(/larger than/);
    }
  });
});
