import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { GraphSimulator, ReceivedRequest } from '../../src/simulator/graph/graph-simulator.js';
import { gate } from '../support/gate.js';
import { postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { startStack, type Stack } from '../support/stack.js';

/** contactPhotos and the batching of every photo read, over real sockets against the simulator. */

const TOKEN = 'list-token';
const INVITATION = 'inv-list';

const LIST = `query List($invitationId: ID!, $contactIds: [ID!]!) {
  contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { contactId id width }
}`;
const THUMBNAILS = `query Thumbnails($invitationId: ID!, $contactIds: [ID!]!) {
  contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { contactId thumbnail: dataUrl(size: 48) }
}`;

const ids = (count: number, prefix = 'c') => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
const list = (stack: Stack, contactIds: string[], query = LIST, invitationId = INVITATION) =>
  postGraphQL(stack.url, query, { invitationId, contactIds }, { token: TOKEN });
const entries = (result: GraphQLResult) => result.body.data!['contactPhotos'] as Array<Record<string, unknown> | null>;

/** Gives contacts a photo in the simulator, as Graph would have it: metadata, and a picture when asked. */
async function seed(simulator: GraphSimulator, contactIds: string[], options: { picture?: boolean; invitationId?: string } = {}): Promise<void> {
  const jpeg = options.picture ? await sharp({ create: { width: 96, height: 64, channels: 3, background: '#3366cc' } }).jpeg().toBuffer() : undefined;
  for (const contactId of contactIds) {
    const url = `${simulator.baseUrl}/invitations/${options.invitationId ?? INVITATION}/invitedUser/contacts/${contactId}/photo`;
    const response = jpeg
      ? await fetch(`${url}/$value`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/jpeg' }, body: jpeg })
      : await fetch(url, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ height: 10, width: 10 }) });
    if (!response.ok) throw new Error(`seeding ${contactId}: ${response.status}`);
  }
}

/** The requests since `from`: the HTTP requests (batches and direct calls), and the items of each batch. */
function traffic(simulator: GraphSimulator, from = 0): { http: ReceivedRequest[]; batches: Map<string, ReceivedRequest[]> } {
  const received = simulator.requests.slice(from);
  const batches = new Map<string, ReceivedRequest[]>();
  for (const request of received) {
    if (request.batchId === undefined) continue;
    batches.set(request.batchId, [...(batches.get(request.batchId) ?? []), request]);
  }
  return { http: received.filter((request) => request.batchId === undefined), batches };
}

/** Waits until `condition` holds, asking again every 10 ms. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const photoOf = (stack: Stack, invitationId: string, contactId: string) =>
  postGraphQL(stack.url, `{ contactPhoto(invitationId: "${invitationId}", contactId: "${contactId}") { id } }`, {}, { token: TOKEN });

/**
 * A list of 4 on `invitationId` (a batch holding all 4 of the mailbox's slots) whose item c1
 * Graph answers 429 with `retryAfter`, and a single read of c9 waiting for a slot meanwhile:
 * how long after the batch was let go the single read reached Graph. The mailbox must be paused
 * before the batch gives its slots back, or the waiting read starts in between.
 */
async function readQueuedBehindThrottledBatch(stack: Stack, invitationId: string, retryAfter: string) {
  await seed(stack.simulator, [...ids(4), 'c9'], { invitationId });
  const held = gate();
  stack.simulator.fail({ batch: true, holdUntil: held.closed }).fail({ invitationId, contactId: 'c1', status: 429, retryAfter });
  const from = stack.simulator.requests.length;
  const listed = list(stack, ids(4), LIST, invitationId);
  await until(() => stack.simulator.requests.length > from);
  const single = photoOf(stack, invitationId, 'c9');
  await until(async () => (await metric(stack.url, 'graph_mailbox_waiting_calls')) === 1);
  const openedAt = performance.now();
  held.open();
  const [listResult, singleResult] = await Promise.all([listed, single]);
  const singleRead = stack.simulator.requests.slice(from).find((request) => request.contactId === 'c9')!;
  return { listResult, singleResult, waitedMs: singleRead.receivedAt - openedAt };
}

describe('contactPhotos', () => {
  let stack: Stack;
  let seedEnd: number;
  beforeAll(async () => {
    stack = await startStack({ env: { GRAPH_MAX_RETRIES: '2' } });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stack.simulator.reset();
    await seed(stack.simulator, ids(45));
    seedEnd = stack.simulator.requests.length;
  });

  it('answers in the order of contactIds, null for a contact without a photo, and reads a repeated id once, in one batch', async () => {
    const result = await list(stack, ['c2', 'nobody', 'c0', 'c2']);

    expect(result.body.errors).toBeUndefined();
    expect(entries(result)).toEqual([
      { contactId: 'c2', id: '10X10', width: 10 },
      null,
      { contactId: 'c0', id: '10X10', width: 10 },
      { contactId: 'c2', id: '10X10', width: 10 },
    ]);
    const { http, batches } = traffic(stack.simulator, seedEnd);
    expect(http.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /beta/$batch']);
    expect([...batches.values()][0]!.map((request) => request.contactId).sort()).toEqual(['c0', 'c2', 'nobody']);
  });

  it('sends the caller’s token on the batch only, never inside it', async () => {
    await list(stack, ['c0', 'c1']);

    const [envelope] = traffic(stack.simulator, seedEnd).http;
    expect(envelope!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(envelope!.body).not.toContain(TOKEN);
    expect(JSON.parse(envelope!.body)).toEqual({
      requests: [
        { id: '1', method: 'GET', url: `/invitations/${INVITATION}/invitedUser/contacts/c0/photo` },
        { id: '2', method: 'GET', url: `/invitations/${INVITATION}/invitedUser/contacts/c1/photo` },
      ],
    });
  });

  it('answers an empty list with [] and no Graph call', async () => {
    const result = await list(stack, []);

    expect(result.body).toEqual({ data: { contactPhotos: [] } });
    expect(stack.simulator.requests.length).toBe(seedEnd);
  });

  it('nulls only the entry Graph refused, with the error at its index, among 25', async () => {
    stack.simulator.fail({ contactId: 'c17', status: 403 });

    const result = await list(stack, ids(25));

    const answer = entries(result);
    expect(answer[17]).toBeNull();
    expect(answer.filter((entry) => entry !== null)).toHaveLength(24);
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0]).toMatchObject({ path: ['contactPhotos', 17], extensions: { code: 'FORBIDDEN', upstream: { status: 403 } } });
  });

  it('sends again only the items Graph throttled inside its 200, after their decimal Retry-After', async () => {
    // A 503's wait does not pause the mailbox (a 429's does): only the batch's own wait can cover it.
    stack.simulator.fail({ contactId: 'c3', status: 503, retryAfter: '0.249' }).fail({ contactId: 'c5', status: 429, retryAfter: '0.1' });
    const retriedBefore = await metric(stack.url, 'graph_batch_items_retried_total{status="429"}');

    const result = await list(stack, ids(8));

    expect(result.body.errors).toBeUndefined();
    expect(entries(result).every((entry) => entry !== null)).toBe(true);
    const batches = [...traffic(stack.simulator, seedEnd).batches.values()];
    expect(batches.map((batch) => batch.length)).toEqual([8, 2]);
    expect(batches[1]!.map((request) => request.contactId).sort()).toEqual(['c3', 'c5']);
    // The longest of the two waits, not the shorter.
    expect(Math.min(...batches[1]!.map((request) => request.receivedAt)) - Math.max(...batches[0]!.map((request) => request.receivedAt))).toBeGreaterThanOrEqual(240);
    expect((await metric(stack.url, 'graph_batch_items_retried_total{status="429"}')) - retriedBefore).toBe(1);
  });

  it("pauses the mailbox for a retried item's 429 before the batch gives its slots back: a read waiting for them waits out the Retry-After", async () => {
    const { listResult, singleResult, waitedMs } = await readQueuedBehindThrottledBatch(stack, 'inv-paused-by-item', '0.8');

    expect(listResult.body.errors).toBeUndefined();
    expect(singleResult.body.errors).toBeUndefined();
    expect(waitedMs).toBeGreaterThanOrEqual(750);
  });

  it('answers an item still throttled after the retries TOO_MANY_REQUESTS with its retryAfter, the others unaffected', async () => {
    stack.simulator.fail({ contactId: 'c1', status: 429, retryAfter: '0.05', times: Infinity });

    const result = await list(stack, ids(3));

    expect(entries(result)[1]).toBeNull();
    expect(entries(result).filter(Boolean)).toHaveLength(2);
    expect(result.body.errors![0]).toMatchObject({ path: ['contactPhotos', 1], extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: 0.05 } });
    // The first attempt and GRAPH_MAX_RETRIES (2) more.
    expect([...traffic(stack.simulator, seedEnd).batches.values()].map((batch) => batch.length)).toEqual([3, 1, 1]);
    stack.simulator.reset();
  });

  it.each([
    [21, [20, 1]],
    [41, [20, 20, 1]],
  ])('splits %i reads into batches of at most 20 (a lone read is a plain GET)', async (count, sizes) => {
    const result = await list(stack, ids(count));

    expect(entries(result).filter(Boolean)).toHaveLength(count);
    const { http, batches } = traffic(stack.simulator, seedEnd);
    expect(http).toHaveLength(sizes.length);
    expect([...[...batches.values()].map((batch) => batch.length), http.filter((request) => request.method === 'GET').length].sort((a, b) => b - a)).toEqual(sizes);
  });

  it('reads aliased contactPhoto fields together in one batch', async () => {
    const fields = ids(6).map((id) => `${id}: contactPhoto(invitationId: "${INVITATION}", contactId: "${id}") { id }`);

    const result = await postGraphQL(stack.url, `{ ${fields.join(' ')} }`, {}, { token: TOKEN });

    expect(result.body.errors).toBeUndefined();
    expect(Object.keys(result.body.data!)).toHaveLength(6);
    const { http, batches } = traffic(stack.simulator, seedEnd);
    expect(http).toHaveLength(1);
    expect([...batches.values()][0]).toHaveLength(6);
  });

  it('retries a batch Graph answered 503 as a whole, as it would one call', async () => {
    stack.simulator.fail({ batch: true, status: 503, retryAfter: '0' });

    const result = await list(stack, ids(4));

    expect(entries(result).filter(Boolean)).toHaveLength(4);
    expect(traffic(stack.simulator, seedEnd).http).toHaveLength(2);
  });

  it('retries a batch whose answer was cut off, as it would one call', async () => {
    stack.simulator.fail({ batch: true, reset: 'mid-body' });

    const result = await list(stack, ids(4));

    expect(result.body.errors).toBeUndefined();
    expect(entries(result).filter(Boolean)).toHaveLength(4);
    expect(traffic(stack.simulator, seedEnd).http).toHaveLength(2);
  });

  it('answers every entry with the error of a batch Graph refused as a whole (401)', async () => {
    stack.simulator.fail({ batch: true, status: 401 });

    const result = await list(stack, ids(3));

    expect(entries(result)).toEqual([null, null, null]);
    expect(result.body.errors!.map((error) => [error.path, error.extensions!['code']])).toEqual([
      [['contactPhotos', 0], 'UNAUTHENTICATED'],
      [['contactPhotos', 1], 'UNAUTHENTICATED'],
      [['contactPhotos', 2], 'UNAUTHENTICATED'],
    ]);
  });

  it('refuses a bad id anywhere in the list with BAD_USER_INPUT, before any Graph call', async () => {
    const result = await list(stack, ['c0', '..', 'c1']);

    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]).toMatchObject({ path: ['contactPhotos'], extensions: { code: 'BAD_USER_INPUT', argument: 'contactIds' } });
    expect(stack.simulator.requests.length).toBe(seedEnd);
  });

  it('refuses an operation over PHOTO_LIST_MAX (100), counting contactPhotos ids and contactPhoto fields, before any Graph call', async () => {
    const over = await postGraphQL(
      stack.url,
      `query Over($invitationId: ID!, $contactIds: [ID!]!) {
        contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { id }
        a: contactPhoto(invitationId: $invitationId, contactId: "x") { id }
        b: contactPhoto(invitationId: $invitationId, contactId: "y") { id }
      }`,
      { invitationId: INVITATION, contactIds: ids(99) },
      { token: TOKEN },
    );
    const exactly = await list(stack, ids(100));

    expect(over.status).toBe(400);
    expect(over.body.errors![0]).toMatchObject({ message: expect.stringMatching(/at most 100 .*asks for 101/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(exactly.body.errors).toBeUndefined();
    expect(traffic(stack.simulator, seedEnd).http).toHaveLength(5);
  });

  it('answers every entry BAD_GATEWAY when Graph answers the batch 200 with a body that is not JSON', async () => {
    stack.simulator.fail({ batch: true, status: 200, body: 'not-json' });

    const result = await list(stack, ids(3));

    expect(entries(result)).toEqual([null, null, null]);
    expect(result.body.errors).toHaveLength(3);
    for (const error of result.body.errors!) {
      expect(error).toMatchObject({ message: expect.stringMatching(/not JSON/), extensions: { code: 'BAD_GATEWAY', upstream: { status: 200 } } });
    }
  });

  it('reads the same contact id of two mailboxes each from its own mailbox', async () => {
    for (const [invitationId, side] of [['inv-one', 20], ['inv-two', 30]] as const) {
      const url = `${stack.simulator.baseUrl}/invitations/${invitationId}/invitedUser/contacts/same/photo`;
      const response = await fetch(url, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ height: side, width: side }) });
      expect(response.status).toBe(200);
    }
    const before = stack.simulator.requests.length;

    const result = await postGraphQL(
      stack.url,
      `{ one: contactPhoto(invitationId: "inv-one", contactId: "same") { width } two: contactPhoto(invitationId: "inv-two", contactId: "same") { width } }`,
      {},
      { token: TOKEN },
    );

    expect(result.body).toEqual({ data: { one: { width: 20 }, two: { width: 30 } } });
    expect(stack.simulator.requests.slice(before).map((request) => request.invitationId).sort()).toEqual(['inv-one', 'inv-two']);
  });

  it('counts batches, their sizes and their items by status in the metrics', async () => {
    const batches = 'graph_batches_total{status="200"}';
    const sizes = 'graph_batch_items_sum';
    const found = 'graph_batch_item_responses_total{status="200"}';
    const missing = 'graph_batch_item_responses_total{status="404"}';
    const before = await Promise.all([batches, sizes, found, missing].map((series) => metric(stack.url, series)));

    await list(stack, [...ids(3), 'nobody']);

    const after = await Promise.all([batches, sizes, found, missing].map((series) => metric(stack.url, series)));
    expect(after.map((value, index) => value - before[index]!)).toEqual([1, 4, 3, 1]);
  });

  it('counts the ids of each request anew, when the same document comes with another list', async () => {
    const within = await list(stack, ids(3));
    const over = await list(stack, ids(101));

    expect(within.body.errors).toBeUndefined();
    expect(over.status).toBe(400);
    expect(over.body.errors![0]).toMatchObject({ message: expect.stringMatching(/asks for 101/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('counts the reads, batches and items of the operation in its log line', async () => {
    await list(stack, ids(3));

    const line = stack.logs.entries('graphql operation').at(-1)!;
    expect(line).toMatchObject({ rootField: 'contactPhotos', attempts: 1, graphBatches: 1, graphBatchItems: 3 });
  });
});

describe('contactPhotos with dataUrl', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A photo queue of one place: a list's thumbnails must take turns in it, not be refused by it.
    stack = await startStack({ env: { GRAPH_MAX_RETRIES: '0', PHOTO_CONCURRENCY: '1', PHOTO_QUEUE: '0' } });
    await seed(stack.simulator, ids(6), { picture: true });
  });
  afterAll(() => stack.close());

  it('reads each contact’s metadata and picture in the same batch, and answers 48 px thumbnails', async () => {
    const before = stack.simulator.requests.length;

    const result = await list(stack, ids(3), THUMBNAILS);

    expect(result.body.errors).toBeUndefined();
    const thumbnail = /^data:image\/jpeg;base64,(.+)$/.exec(String(entries(result)[0]!['thumbnail']))![1]!;
    expect(await sharp(Buffer.from(thumbnail, 'base64')).metadata()).toMatchObject({ width: 48, height: 32 });
    const { http, batches } = traffic(stack.simulator, before);
    expect(http).toHaveLength(1);
    expect([...batches.values()][0]!.map((request) => (request.url.endsWith('/$value') ? 'value' : 'photo')).sort()).toEqual(['photo', 'photo', 'photo', 'value', 'value', 'value']);
  });

  it('makes more thumbnails than the photo queue holds, in turns, none refused', async () => {
    const result = await list(stack, ids(6), THUMBNAILS);

    expect(result.body.errors).toBeUndefined();
    expect(entries(result).map((entry) => String(entry!['thumbnail']).slice(0, 23))).toEqual(Array(6).fill('data:image/jpeg;base64,'));
  });

  it("answers Graph's own code and message for a picture Graph refused inside the batch (an error body is JSON, not base64)", async () => {
    stack.simulator.fail({ contactId: 'c1', value: true, status: 403, code: 'ErrorAccessDenied', message: 'Access is denied to this picture.' });

    const result = await list(stack, ids(3), THUMBNAILS);

    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0]).toMatchObject({
      path: ['contactPhotos', 1, 'thumbnail'],
      message: 'Access is denied to this picture.',
      extensions: { code: 'FORBIDDEN', upstream: { status: 403, code: 'ErrorAccessDenied', message: 'Access is denied to this picture.' } },
    });
  });

  it('answers BAD_GATEWAY for the dataUrl of an item whose picture is not an image, and only for it', async () => {
    stack.simulator.fail({ contactId: 'c1', value: true, status: 200, body: { raw: 'not a picture', contentType: 'image/jpeg' } });

    const result = await list(stack, ids(3), THUMBNAILS);

    expect(entries(result).map((entry) => entry && typeof entry['thumbnail'])).toEqual(['string', 'object', 'string']);
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0]).toMatchObject({ path: ['contactPhotos', 1, 'thumbnail'], extensions: { code: 'BAD_GATEWAY' } });
  });
});

describe('PHOTO_LIST_MAX, counted over the ids the resolvers receive', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_LIST_MAX: '3' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  const refusal = (asked: number) => ({ message: expect.stringMatching(new RegExp(`at most 3 .*asks for ${asked}\\.$`)), extensions: { code: 'BAD_USER_INPUT' } });
  const inline = (contactIds: string[]) => `[${contactIds.map((id) => JSON.stringify(id)).join(', ')}]`;

  it('refuses ids given by a variable’s default value, sent without variables, before any Graph call', async () => {
    const result = await postGraphQL(
      stack.url,
      `query Defaulted($contactIds: [ID!]! = ${inline(ids(4))}) { contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { id } }`,
      {},
      { token: TOKEN },
    );

    expect(result.status).toBe(400);
    expect(result.body.errors![0]).toMatchObject(refusal(4));
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('counts the ids sent rather than the default they replace', async () => {
    const result = await postGraphQL(
      stack.url,
      `query Defaulted($contactIds: [ID!]! = ${inline(ids(4))}) { contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { id } }`,
      { contactIds: ids(3) },
      { token: TOKEN },
    );

    expect(result.body).toEqual({ data: { contactPhotos: [null, null, null] } });
  });

  it.each([
    ['written in the document', `query Lone($contactIds: [ID!]!) { a: contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { id } b: contactPhotos(invitationId: "${INVITATION}", contactIds: "lone") { id } }`, {}],
    ['sent as a variable', `query Lone($contactIds: [ID!]!, $lone: [ID!]!) { a: contactPhotos(invitationId: "${INVITATION}", contactIds: $contactIds) { id } b: contactPhotos(invitationId: "${INVITATION}", contactIds: $lone) { id } }`, { lone: 'lone' }],
  ])('counts a lone contactIds value (%s) as one photo', async (_case, query, variables) => {
    const over = await postGraphQL(stack.url, query, { contactIds: ids(3), ...variables }, { token: TOKEN });
    const within = await postGraphQL(stack.url, query, { contactIds: ids(2), ...variables }, { token: TOKEN });

    expect(over.status).toBe(400);
    expect(over.body.errors![0]).toMatchObject(refusal(4));
    expect(within.body).toEqual({ data: { a: [null, null], b: [null] } });
    // Only the second operation read anything: its three contacts, in one batch.
    expect(stack.simulator.requests.map((request) => request.contactId).sort()).toEqual(['c0', 'c1', 'lone']);
  });
});

describe('with GRAPH_BATCH_MAX=1', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { GRAPH_BATCH_MAX: '1' } });
    await seed(stack.simulator, ids(5));
  });
  afterAll(() => stack.close());

  it('sends each read as its own GET', async () => {
    const before = stack.simulator.requests.length;

    const result = await list(stack, ids(5));

    expect(entries(result).filter(Boolean)).toHaveLength(5);
    const { http, batches } = traffic(stack.simulator, before);
    expect(batches.size).toBe(0);
    expect(http.map((request) => request.method)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET']);
  });
});

describe('a list and single calls on one Outlook-limited mailbox', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Outlook's limit of 4 in flight per mailbox, each request (and item) taking 20 ms.
    stack = await startStack({ simulator: { mailboxConcurrency: 4, latencyMs: 20 } });
    await seed(stack.simulator, ids(40));
  });
  afterAll(() => stack.close());

  it('meets no upstream 429: a batch holds as many of the mailbox’s slots as Outlook runs of it', async () => {
    stack.simulator.reset();
    await seed(stack.simulator, ids(40));

    const [listed, ...singles] = await Promise.all([
      list(stack, ids(40)),
      ...ids(12).map((id) => postGraphQL(stack.url, `{ contactPhoto(invitationId: "${INVITATION}", contactId: "${id}") { id } }`, {}, { token: TOKEN })),
    ]);

    expect(listed!.body.errors).toBeUndefined();
    expect(entries(listed!).filter(Boolean)).toHaveLength(40);
    expect(singles.every((single) => single.body.errors === undefined)).toBe(true);
    expect(stack.simulator.throttledCount).toBe(0);
  });

  it.each([2, 3, 4])('holds one slot per item for a batch of %i: with the other slots taken by single reads, the next single read waits', async (size) => {
    stack.simulator.reset();
    const invitationId = `inv-slots-${size}`;
    const singles = ids(5 - size, 's');
    await seed(stack.simulator, [...ids(size), ...singles], { invitationId });
    // Every read of the mailbox stays in flight at Outlook until the test lets go: a fifth one
    // there is answered 429.
    const held = gate();
    stack.simulator.fail({ invitationId, holdUntil: held.closed, times: Infinity });

    const answers = Promise.all([list(stack, ids(size), LIST, invitationId), ...singles.map((id) => photoOf(stack, invitationId, id))]);
    // Whichever came first, one read must wait for a slot; a batch holding too few lets all five reach Outlook.
    await until(async () => (await metric(stack.url, 'graph_mailbox_waiting_calls')) === 1 || stack.simulator.throttledCount > 0);
    held.open();
    const [listed, ...single] = await answers;

    expect(stack.simulator.throttledCount).toBe(0);
    expect(entries(listed!).filter(Boolean)).toHaveLength(size);
    expect(single.every((result) => result.body.errors === undefined)).toBe(true);
  });
});

describe('a batch item given up on after a 429 (GRAPH_MAX_RETRIES=0, GRAPH_MAX_RETRY_AFTER_S=1)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { GRAPH_MAX_RETRIES: '0', GRAPH_MAX_RETRY_AFTER_S: '1' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('still pauses its mailbox, before the batch gives its slots back', async () => {
    const { listResult, singleResult, waitedMs } = await readQueuedBehindThrottledBatch(stack, 'inv-given-up', '0.8');

    expect(listResult.body.errors!.map((error) => [error.path, error.extensions!['code']])).toEqual([[['contactPhotos', 1], 'TOO_MANY_REQUESTS']]);
    expect(singleResult.body.errors).toBeUndefined();
    expect(waitedMs).toBeGreaterThanOrEqual(750);
  });

  it('asking for a day pauses its mailbox for GRAPH_MAX_RETRY_AFTER_S only: the next read waits 1 s, then is answered', async () => {
    const invitationId = 'inv-day';
    await seed(stack.simulator, [...ids(3), 'c9'], { invitationId });
    stack.simulator.fail({ invitationId, contactId: 'c1', status: 429, retryAfter: '86400' });
    const from = stack.simulator.requests.length;

    const listed = await list(stack, ids(3), LIST, invitationId);
    const single = await photoOf(stack, invitationId, 'c9');

    expect(listed.body.errors![0]).toMatchObject({ path: ['contactPhotos', 1], extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: 86400 } });
    expect(single.body.errors).toBeUndefined();
    const received = stack.simulator.requests.slice(from);
    const throttledAt = received.find((request) => request.contactId === 'c1')!.receivedAt;
    expect(received.find((request) => request.contactId === 'c9')!.receivedAt - throttledAt).toBeGreaterThanOrEqual(950);
  });
});
