import { once } from 'node:events';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { postGraphQL } from '../support/graphql.js';
import { noiseJpeg, twoColourImage } from '../support/images.js';
import { sendRawRequest } from '../support/local-server.js';
import { gate } from '../support/gate.js';
import { metric } from '../support/metrics.js';
import { killRunning, runCompiled, waitFor } from '../support/process.js';
import { UPLOAD_PHOTO, postUpload } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { UNREAD_PICTURE_RESERVATION } from '../../src/schema/data-url-budget.js';

/**
 * The picture path's bounds, over real sockets: memory (a bounded photo queue, decided from the
 * headers), time (PHOTO_TIMEOUT_MS), callers who leave, and libuv's thread pool left free for
 * the DNS look-ups of Graph calls.
 */

const TOKEN = 'bounds-token';
const ids = { invitationId: 'inv-bounds', contactId: 'contact-bounds' };

/** A 49-megapixel 16-bit PNG of 440 KB: half a second of CPU or more, the slow image of these tests. */
let slowPng: Buffer;
beforeAll(async () => {
  slowPng = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .toColourspace('rgb16')
    .png({ compressionLevel: 9 })
    .toBuffer();
});

async function waitForMetric(url: string, name: string, predicate: (value: number) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate(await metric(url, name))) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${name}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Node's garbage collector, reached without --expose-gc on Jest's worker. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Sends an upload's headers with `Expect: 100-continue` and no body, and answers the status line
 * of the first response: 100 when the body is asked for, else the refusal.
 */
async function firstAnswerToExpect(port: number, headers: string[]): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    ['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=x', 'expect: 100-continue', `authorization: Bearer ${TOKEN}`, ...headers, '', ''].join('\r\n'),
  );
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return chunk.toString('latin1').split('\r\n')[0]!;
}

describe('the photo queue (PHOTO_CONCURRENCY + PHOTO_QUEUE)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CONCURRENCY: '1', PHOTO_QUEUE: '1', GRAPH_MAX_RETRIES: '0' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('refuses uploads past it with 429 and Retry-After, before reading them, and gives their memory back', async () => {
    const file = await noiseJpeg(1600, 1200);
    expect(file.length).toBeGreaterThan(1_000_000);
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    // Two uploads fill the queue: their PUTs are held at Graph, so their answers (and places) wait.
    const graph = gate();
    stack.simulator.fail({ method: 'PUT', holdUntil: graph.closed, times: 2 });
    const admitted = [0, 1].map((i) => postUpload(stack.url, UPLOAD_PHOTO, { ...ids, contactId: `held-${i}` }, file, { token: TOKEN }));
    await waitFor(() => stack.simulator.requests.filter((request) => request.method === 'PUT').length === 2, 10_000);
    expect(await metric(stack.url, 'photo_images_admitted')).toBe(2);

    const refused = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => postUpload(stack.url, UPLOAD_PHOTO, { ...ids, contactId: `refused-${i}` }, file, { token: TOKEN })),
    );
    // A 20 MB upload that sends no body at all is answered from its headers.
    const port = Number(new URL(stack.url).port);
    const unread = await sendRawRequest(
      port,
      ['POST /graphql HTTP/1.1', 'content-type: multipart/form-data; boundary=x', 'apollo-require-preflight: true', `authorization: Bearer ${TOKEN}`],
      '',
      20_000_000,
    );
    // So is one that asks before sending it.
    const asked = await firstAnswerToExpect(port, ['apollo-require-preflight: true', 'content-length: 2000000']);

    for (const result of refused) {
      expect(result.status).toBe(429);
      expect(Number(result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(result.body.errors![0]).toMatchObject({
        message: expect.stringMatching(/processing as many images as it holds/),
        extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: Number(result.headers.get('retry-after')) },
      });
    }
    expect([unread.status, unread.headers['connection'], JSON.parse(unread.body).errors[0].extensions.code]).toEqual([429, 'close', 'TOO_MANY_REQUESTS']);
    expect(asked).toBe('HTTP/1.1 429 Too Many Requests');
    expect(stack.simulator.requests.filter((request) => request.method === 'PUT')).toHaveLength(2);
    expect(await metric(stack.url, 'photo_images_admitted')).toBe(2);

    graph.open();
    const done = await Promise.all(admitted);
    expect(done.map((result) => result.body.errors)).toEqual([undefined, undefined]);
    await waitForMetric(stack.url, 'photo_images_admitted', (value) => value === 0);
    // Eight uploads of 1.5 MB went through this process (both ends): once their sockets are
    // closed, none of them is still held.
    const retained = () => {
      collectGarbage();
      return process.memoryUsage().arrayBuffers - before;
    };
    await waitFor(() => retained() < file.length / 2, 5000);
  });

  it('answers Expect: 100-continue only once the upload is admitted', async () => {
    const port = Number(new URL(stack.url).port);

    const tooLarge = await firstAnswerToExpect(port, ['apollo-require-preflight: true', `content-length: ${30 * 1024 * 1024}`]);
    const admitted = await firstAnswerToExpect(port, ['apollo-require-preflight: true', 'content-length: 2000000']);

    expect(tooLarge).toBe('HTTP/1.1 413 Payload Too Large');
    expect(admitted).toBe('HTTP/1.1 100 Continue');
  });

  it('refuses an upload without Content-Length (411), before reading it', async () => {
    const port = Number(new URL(stack.url).port);
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    socket.write(
      ['POST /graphql HTTP/1.1', 'host: 127.0.0.1', 'content-type: multipart/form-data; boundary=x', 'apollo-require-preflight: true', 'transfer-encoding: chunked', '', ''].join('\r\n'),
    );
    await once(socket, 'close');

    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 411 Length Required');
    expect(raw).toContain('"code":"BAD_REQUEST"');
    expect(raw).toMatch(/Content-Length/);
    expect(stack.simulator.requests).toHaveLength(0);
  });
});

describe('the upload byte budget, the token and the body timeout', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_UPLOAD_BUDGET_BYTES: String(3_000_000), PHOTO_UPLOAD_TIMEOUT_MS: '300', GRAPH_MAX_RETRIES: '0' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());
  const port = () => Number(new URL(stack.url).port);
  const multipartHead = (extra: string[] = [`authorization: Bearer ${TOKEN}`]) => [
    'POST /graphql HTTP/1.1',
    'content-type: multipart/form-data; boundary=x',
    'apollo-require-preflight: true',
    ...extra,
  ];

  it('answers 503 with Retry-After, from the headers, once the announced bytes would pass PHOTO_UPLOAD_BUDGET_BYTES', async () => {
    const file = await noiseJpeg(1600, 1200);
    const graph = gate();
    stack.simulator.fail({ method: 'PUT', holdUntil: graph.closed });
    const held = postUpload(stack.url, UPLOAD_PHOTO, ids, file, { token: TOKEN });
    await waitFor(() => stack.simulator.requests.some((request) => request.method === 'PUT'), 10_000);
    expect(await metric(stack.url, 'photo_upload_bytes_admitted')).toBeGreaterThan(file.length);

    const refused = await sendRawRequest(port(), multipartHead(), '', 2_000_000);

    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: Number(refused.headers['retry-after']) } }] });
    graph.open();
    expect((await held).body.errors).toBeUndefined();
    await waitForMetric(stack.url, 'photo_upload_bytes_admitted', (value) => value === 0);
  });

  it('refuses an upload without a bearer token with 401 before reading its body', async () => {
    const answer = await Promise.race([
      sendRawRequest(port(), multipartHead([]), '', 19_000_000),
      new Promise<'waited for the body'>((resolve) => setTimeout(() => resolve('waited for the body'), 5000).unref()),
    ]);

    expect(answer).toMatchObject({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(await metric(stack.url, 'photo_images_admitted')).toBe(0);
  });

  it('gives an upload PHOTO_UPLOAD_TIMEOUT_MS to send its body, then 408 and its place back', async () => {
    const started = performance.now();

    // 1 MB announced, a few bytes sent, then nothing.
    const answer = await sendRawRequest(port(), multipartHead(), '--x\r\n', 1_000_000);

    expect(answer.status).toBe(408);
    // Well before the request timeout (30 s).
    expect(performance.now() - started).toBeLessThan(10_000);
    await waitForMetric(stack.url, 'photo_images_admitted', (value) => value === 0);
    expect(await metric(stack.url, 'photo_upload_bytes_admitted')).toBe(0);
  });
});

describe('PHOTO_DATAURL_BUDGET_BYTES', () => {
  // 12 MiB of data: URLs: two pictures at Graph's 4 MB cap may be read at once (5.6 MB of
  // data: URL each, reserved before the read); two of 3.8 MB (5 MB each) leave too little for a third.
  const BUDGET = 12 * 1024 * 1024;
  const INVITATION = 'inv-budget';
  let stack: Stack;
  let large: Buffer;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_DATAURL_BUDGET_BYTES: String(BUDGET), GRAPH_MAX_RETRIES: '0' } });
    // About 3.8 MB: near Graph's 4 MB cap, as any mailbox owner can set in Outlook.
    large = await noiseJpeg(1900, 1500, 100);
    expect(large.length).toBeGreaterThan(3_500_000);
    expect(large.length).toBeLessThan(4 * 1024 * 1024);
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  let seedEnd = 0;
  /** Gives the contacts this picture in the simulator, as Graph would hold it. */
  async function seed(contactIds: string[], picture: Buffer): Promise<void> {
    for (const contactId of contactIds) {
      const url = `${stack.simulator.baseUrl}/invitations/${INVITATION}/invitedUser/contacts/${contactId}/photo/$value`;
      const response = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/jpeg' }, body: picture });
      if (!response.ok) throw new Error(`seeding ${contactId}: ${response.status}`);
    }
    seedEnd = stack.simulator.requests.length;
  }
  const dataUrlLength = (jpeg: Buffer) => 'data:image/jpeg;base64,'.length + Math.ceil(jpeg.length / 3) * 4;
  /** The pictures the gateway read since the seeding. */
  const pictureReads = () => stack.simulator.requests.slice(seedEnd).filter((request) => request.url.endsWith('/$value')).map((request) => request.contactId);
  const refused = (path: Array<string | number>) => ({
    path,
    message: expect.stringContaining(`PHOTO_DATAURL_BUDGET_BYTES (${BUDGET} bytes`),
    extensions: { code: 'BAD_USER_INPUT', argument: 'size' },
  });

  it('refuses the full-size dataUrls of a list past the budget, reading at most one picture past it, and answers the rest', async () => {
    const contactIds = ['c0', 'c1', 'c2', 'c3', 'c4'];
    await seed(contactIds, large);

    const result = await postGraphQL(
      stack.url,
      `query List($contactIds: [ID!]!) { contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { contactId width dataUrl } }`,
      { contactIds },
      { token: TOKEN },
    );

    expect(result.status).toBe(200);
    const entries = result.body.data!['contactPhotos'] as Array<{ contactId: string; width: number; dataUrl: string | null }>;
    expect(entries.map((entry) => [entry.contactId, entry.width, entry.dataUrl?.length ?? null])).toEqual([
      ['c0', 1900, dataUrlLength(large)],
      ['c1', 1900, dataUrlLength(large)],
      ['c2', 1900, null],
      ['c3', 1900, null],
      ['c4', 1900, null],
    ]);
    const errors = [...result.body.errors!].sort((a, b) => Number(a.path![1]) - Number(b.path![1]));
    expect(errors).toEqual([2, 3, 4].map((index) => expect.objectContaining(refused(['contactPhotos', index, 'dataUrl']))));
    // c2 was read against what was left, and did not fit: c3 and c4 were never read.
    expect(pictureReads().sort()).toEqual(['c0', 'c1', 'c2']);
  });

  it('counts each full-size dataUrl field of a picture, as each is in the answer again', async () => {
    await seed(['one'], large);

    const result = await postGraphQL(
      stack.url,
      `{ contactPhoto(invitationId: "${INVITATION}", contactId: "one") { a: dataUrl b: dataUrl c: dataUrl thumbnail: dataUrl(size: 48) } }`,
      {},
      { token: TOKEN },
    );

    const photo = result.body.data!['contactPhoto'] as Record<string, string | null>;
    expect([typeof photo['a'], typeof photo['b'], photo['c'], typeof photo['thumbnail']]).toEqual(['string', 'string', null, 'string']);
    expect(result.body.errors).toEqual([expect.objectContaining(refused(['contactPhoto', 'c']))]);
    expect(pictureReads()).toEqual(['one']);
  });

  it('gives back what a smaller picture does not use, and reads the last ones against what is left: a list that fits is answered whole', async () => {
    const contactIds = Array.from({ length: 16 }, (_, i) => `s${i}`);
    const smaller = await noiseJpeg(600, 500, 100);
    await seed(contactIds, smaller);
    // More than the budget leaves once a whole reservation (a picture at Graph's cap) is set aside.
    expect(contactIds.length * dataUrlLength(smaller)).toBeGreaterThan(BUDGET - UNREAD_PICTURE_RESERVATION);
    expect(contactIds.length * dataUrlLength(smaller)).toBeLessThan(BUDGET);

    const result = await postGraphQL(
      stack.url,
      `query List($contactIds: [ID!]!) { contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { dataUrl } }`,
      { contactIds },
      { token: TOKEN },
    );

    expect(result.body.errors).toBeUndefined();
    expect((result.body.data!['contactPhotos'] as Array<{ dataUrl: string }>).map((entry) => entry.dataUrl.length)).toEqual(Array(16).fill(dataUrlLength(smaller)));
  });
});

describe('PHOTO_TIMEOUT_MS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CONCURRENCY: '1', PHOTO_TIMEOUT_MS: '100' } });
  });
  afterAll(() => stack.close());

  it('answers an image that takes longer with BAD_USER_INPUT, and keeps its turn until the work has stopped', async () => {
    const result = await postUpload(stack.url, UPLOAD_PHOTO, ids, slowPng, { token: TOKEN });
    const processingRightAfter = await metric(stack.url, 'photo_images_processing');

    expect(result.body.errors![0]).toMatchObject({
      message: 'The image took longer than 100 ms to process: send a smaller image.',
      extensions: { code: 'BAD_USER_INPUT', argument: 'file' },
    });
    expect(stack.simulator.requests).toHaveLength(0);
    // libvips is still busy with it: the turn is not handed to another image meanwhile.
    expect(processingRightAfter).toBe(1);
    await waitForMetric(stack.url, 'photo_images_processing', (value) => value === 0);
    await waitForMetric(stack.url, 'photo_images_admitted', (value) => value === 0);
  });
});

describe('a caller who leaves', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CONCURRENCY: '1' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  const operationLines = () => stack.logs.entries('graphql operation');

  it('stops the work on its upload, and nothing is sent to Graph', async () => {
    const small = await (await twoColourImage(120, 90)).jpeg().toBuffer();
    const linesBefore = operationLines().length;
    const slow = postUpload(stack.url, UPLOAD_PHOTO, { ...ids, contactId: 'stays' }, slowPng, { token: TOKEN });
    await waitForMetric(stack.url, 'photo_images_processing', (value) => value === 1);
    const leaving = new AbortController();
    const left = postUpload(stack.url, UPLOAD_PHOTO, { ...ids, contactId: 'leaves' }, small, { token: TOKEN, signal: leaving.signal });
    // The second waits for its turn behind the slow one; then its caller gives up.
    await waitForMetric(stack.url, 'photo_images_waiting', (value) => value === 1);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ name: 'AbortError' });

    expect((await slow).body.errors).toBeUndefined();
    await waitFor(() => operationLines().length === linesBefore + 2, 10_000);

    const lines = operationLines().slice(linesBefore);
    expect(lines.find((line) => line['code'] === 'CLIENT_CLOSED_REQUEST')).toMatchObject({ rootField: 'uploadContactPhoto', callerLeft: true });
    expect(lines.find((line) => line['code'] === 'OK')).not.toHaveProperty('callerLeft');
    expect(stack.simulator.requests.filter((request) => request.method === 'PUT').map((request) => request.url)).toEqual([
      '/beta/invitations/inv-bounds/invitedUser/contacts/stays/photo/$value',
    ]);
    // Only the slow PNG was worked on: the JPEG of the caller who left never got its turn.
    expect(await metric(stack.url, 'photo_processing_seconds_count{operation="upload",format="png"}')).toBe(1);
    expect(await metric(stack.url, 'photo_processing_seconds_count{operation="upload",format="jpeg"}')).toBe(0);
    expect(await metric(stack.url, 'photo_images_waiting')).toBe(0);
    await waitForMetric(stack.url, 'photo_images_admitted', (value) => value === 0);
  });

  it('completes a PUT that had started, and the log says the caller had left', async () => {
    const small = await (await twoColourImage(120, 90)).jpeg().toBuffer();
    const linesBefore = operationLines().length;
    const graph = gate();
    stack.simulator.fail({ method: 'PUT', holdUntil: graph.closed });
    const leaving = new AbortController();
    const left = postUpload(stack.url, UPLOAD_PHOTO, ids, small, { token: TOKEN, signal: leaving.signal });
    await waitFor(() => stack.simulator.requests.some((request) => request.method === 'PUT'), 10_000);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ name: 'AbortError' });
    graph.open();

    await waitFor(() => operationLines().length === linesBefore + 1, 10_000);
    expect(operationLines().at(-1)).toMatchObject({ rootField: 'uploadContactPhoto', code: 'OK', callerLeft: true });
    expect(stack.simulator.storedImage(TOKEN, ids.invitationId, ids.contactId)).toBeDefined();
  });
});

describe("libuv's thread pool", () => {
  const simulator = new GraphSimulator();
  afterAll(() => simulator.close());
  afterEach(() => killRunning());

  it('is sized so that a Graph call (its DNS look-up) does not wait behind a burst of uploads', async () => {
    // "localhost": each new connection to Graph starts with dns.lookup, on libuv's pool.
    const graphBaseUrl = (await simulator.listen()).replace('127.0.0.1', 'localhost');
    const gateway = runCompiled('main.js', { PORT: '0', HOST: '127.0.0.1', GRAPH_BASE_URL: graphBaseUrl, PHOTO_CONCURRENCY: '4', LOG_LEVEL: 'info' });
    await gateway.printed('gateway listening');
    const { url } = JSON.parse(gateway.output().split('\n').find((line) => line.includes('gateway listening'))!) as { url: string };
    const order: string[] = [];
    const uploads = [0, 1, 2, 3].map((i) =>
      postUpload(url, UPLOAD_PHOTO, { ...ids, contactId: `burst-${i}` }, slowPng, { token: TOKEN }).then(() => order.push('upload')),
    );
    // Four images at work: with Node's default four threads, sharp would hold every one of them.
    await waitForMetric(url, 'photo_images_processing', (value) => value === 4);

    const query = await postGraphQL(url, `{ contactPhoto(invitationId: "inv-bounds", contactId: "none") { id } }`, {}, { token: TOKEN });
    order.push('query');
    await Promise.all(uploads);

    expect(query.body).toEqual({ data: { contactPhoto: null } });
    expect(order[0]).toBe('query');
  });
});
