import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { postGraphQL, UPDATE_PHOTO } from '../support/graphql.js';
import { BLUE, RED, twoColourImage } from '../support/images.js';
import { metric } from '../support/metrics.js';
import { startStack, type Stack } from '../support/stack.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';

/**
 * The per-caller photo cache (PHOTO_CACHE_TTL_S), over real sockets against the simulated Graph:
 * what reaches Graph is counted from the simulator's requests (batch items included).
 */

const ids = { invitationId: 'inv-cache', contactId: 'contact-cache' };
const PHOTO = `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id width height dataUrl(size: 48) } }`;
const METADATA = `query Photo($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id width height } }`;

/** The photo reads Graph received since `from` (each item of a batch, or a direct GET), as `photo` or `$value`. */
function readsSince(stack: Stack, from: number): string[] {
  return stack.simulator.requests
    .slice(from)
    .filter((request) => request.method === 'GET' && request.contactId !== undefined)
    .map((request) => (request.url.endsWith('/$value') ? '$value' : 'photo'));
}

async function upload(stack: Stack, token: string, width: number, left = RED, variables = ids): Promise<void> {
  const png = await (await twoColourImage(width, 100, left, BLUE)).png().toBuffer();
  const result = await postUpload(stack.url, UPLOAD_PHOTO, variables, png, { token });
  expect(result.body.errors).toBeUndefined();
}

async function photoOf(stack: Stack, token: string, query = PHOTO, variables = ids): Promise<Record<string, unknown> | null> {
  const result = await postGraphQL(stack.url, query, variables, { token });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!['contactPhoto'] as Record<string, unknown> | null;
}

describe('the photo cache, per token in passthrough mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CACHE_TTL_S: '600', GRAPH_MAX_RETRIES: '0' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it("makes each caller's first read its own Graph read, and never answers one caller with another's entry", async () => {
    // Graph keeps photos per token here: each caller has a picture of its own for the same contact.
    const contact = { invitationId: 'inv-two-callers', contactId: 'c' };
    await upload(stack, 'token-a', 300, RED, contact);
    await upload(stack, 'token-b', 200, BLUE, contact);
    const from = stack.simulator.requests.length;

    const first = [await photoOf(stack, 'token-a', PHOTO, contact), await photoOf(stack, 'token-b', PHOTO, contact)];
    const afterFirst = readsSince(stack, from);
    const again = [await photoOf(stack, 'token-a', PHOTO, contact), await photoOf(stack, 'token-b', PHOTO, contact)];

    expect(first.map((photo) => photo!['width'])).toEqual([300, 200]);
    expect(afterFirst.sort()).toEqual(['$value', '$value', 'photo', 'photo']);
    expect(again).toEqual(first);
    expect(first[0]!['dataUrl']).not.toEqual(first[1]!['dataUrl']);
    expect(readsSince(stack, from)).toHaveLength(4);
  });

  it('answers a second read within the lifetime without any Graph call, and says so in the log line and the metrics', async () => {
    await upload(stack, 'token-again', 300);
    await photoOf(stack, 'token-again');
    const from = stack.simulator.requests.length;
    const hitsBefore = await metric(stack.url, 'photo_cache_reads_total{part="metadata",outcome="hit"}');

    const photo = await photoOf(stack, 'token-again');

    expect(photo!['width']).toBe(300);
    expect(stack.simulator.requests.length).toBe(from);
    expect(await metric(stack.url, 'photo_cache_reads_total{part="metadata",outcome="hit"}')).toBe(hitsBefore + 1);
    const line = stack.logs.entries('graphql operation').at(-1)!;
    // The metadata, the picture and its 48 px thumbnail.
    expect(line).toMatchObject({ attempts: 0, photoCacheReads: 3 });
  });

  it('keeps "no photo" too: the second read of a contact without one asks Graph nothing', async () => {
    const first = await photoOf(stack, 'token-none', PHOTO, { invitationId: 'inv-none', contactId: 'nobody' });
    const from = stack.simulator.requests.length;

    const second = await photoOf(stack, 'token-none', PHOTO, { invitationId: 'inv-none', contactId: 'nobody' });

    expect([first, second]).toEqual([null, null]);
    expect(stack.simulator.requests.length).toBe(from);
  });

  it('joins 10 identical reads in flight at once into one Graph call', async () => {
    await upload(stack, 'token-burst', 300);
    stack.simulator.fail({ method: 'GET', delayMs: 300 });
    const from = stack.simulator.requests.length;

    const photos = await Promise.all(Array.from({ length: 10 }, () => photoOf(stack, 'token-burst', METADATA)));

    expect(new Set(photos.map((photo) => JSON.stringify(photo)))).toEqual(new Set([JSON.stringify({ id: '300X100', width: 300, height: 100 })]));
    expect(readsSince(stack, from)).toEqual(['photo']);
    expect(await metric(stack.url, 'photo_cache_reads_total{part="metadata",outcome="shared"}')).toBeGreaterThanOrEqual(9);
  });
});

describe('the photo cache and the gateway’s own writes', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Every token is the same principal: two callers who both reach the same mailbox.
    stack = await startStack({ env: { PHOTO_CACHE_TTL_S: '600', GRAPH_MAX_RETRIES: '0' }, simulator: { principal: () => 'shared-mailbox' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('shows an upload through the gateway to the next read of every caller at once', async () => {
    await upload(stack, 'token-a', 300);
    const before = [await photoOf(stack, 'token-a'), await photoOf(stack, 'token-b')];

    await upload(stack, 'token-a', 200, BLUE);
    const from = stack.simulator.requests.length;
    const after = [await photoOf(stack, 'token-a'), await photoOf(stack, 'token-b')];

    expect(before.map((photo) => photo!['width'])).toEqual([300, 300]);
    expect(after.map((photo) => photo!['width'])).toEqual([200, 200]);
    expect(after[0]!['dataUrl']).not.toEqual(before[0]!['dataUrl']);
    expect(readsSince(stack, from).sort()).toEqual(['$value', '$value', 'photo', 'photo']);
  });

  it('shows an updateContactPhoto through the gateway to the next read of every caller at once', async () => {
    await upload(stack, 'token-a', 300);
    await photoOf(stack, 'token-a', METADATA);
    await photoOf(stack, 'token-b', METADATA);

    const updated = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { width: 64, height: 64 } }, { token: 'token-a' });

    expect(updated.body.errors).toBeUndefined();
    expect(await photoOf(stack, 'token-b', METADATA)).toEqual({ id: '64X64', width: 64, height: 64 });
    expect(await photoOf(stack, 'token-a', METADATA)).toEqual({ id: '64X64', width: 64, height: 64 });
  });
});

describe('the photo cache past its lifetime', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CACHE_TTL_S: '1', GRAPH_MAX_RETRIES: '0' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  const pastTheLifetime = () => new Promise((resolve) => setTimeout(resolve, 1100));

  it("re-reads only the metadata of an expired picture whose @odata.mediaEtag is unchanged, and keeps its bytes", async () => {
    await upload(stack, 'token-stale', 300);
    const first = await photoOf(stack, 'token-stale');
    await pastTheLifetime();
    const from = stack.simulator.requests.length;
    const revalidated = await metric(stack.url, 'photo_cache_revalidations_total{outcome="unchanged"}');

    const second = await photoOf(stack, 'token-stale');

    expect(second).toEqual(first);
    expect(readsSince(stack, from)).toEqual(['photo']);
    expect(await metric(stack.url, 'photo_cache_revalidations_total{outcome="unchanged"}')).toBe(revalidated + 1);
  });

  it('reads the picture again when its @odata.mediaEtag changed outside the gateway', async () => {
    await upload(stack, 'token-changed', 300);
    const first = await photoOf(stack, 'token-changed');
    // Changed in Outlook: straight to Graph, the gateway is not told.
    const jpeg = await (await twoColourImage(120, 100, BLUE, RED)).jpeg().toBuffer();
    const put = await fetch(`${stack.simulator.baseUrl}/invitations/${ids.invitationId}/invitedUser/contacts/${ids.contactId}/photo/$value`, {
      method: 'PUT',
      headers: { authorization: 'Bearer token-changed', 'content-type': 'image/jpeg' },
      body: jpeg,
    });
    expect(put.status).toBe(200);
    await pastTheLifetime();
    const from = stack.simulator.requests.length;

    const second = await photoOf(stack, 'token-changed');

    expect(second!['width']).toBe(120);
    expect(second!['dataUrl']).not.toEqual(first!['dataUrl']);
    expect(readsSince(stack, from)).toEqual(['photo', '$value']);
  });
});
