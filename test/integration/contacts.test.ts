import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { SimulatedContact } from '../../src/simulator/graph/graph-simulator.js';
import { encodeCursor } from '../../src/schema/contact-cursor.js';
import { postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

/** `contacts` over real sockets: the gateway on an ephemeral port, the Graph simulator behind it. */

const TOKEN = 'contacts-token';
const INVITATION = 'inv-contacts';

const PAGE = `query Page($invitationId: ID!, $first: Int, $after: String) {
  contacts(invitationId: $invitationId, first: $first, after: $after) {
    edges { cursor node { id displayName givenName emailAddresses { address } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const THUMBNAILS = `query Thumbnails($invitationId: ID!, $first: Int) {
  contacts(invitationId: $invitationId, first: $first) {
    edges { node { id photo { dataUrl(size: 48) } } }
  }
}`;

/** The screen's query as the brief gives it, and two more fields. */
const SCREEN = `query Screen($invitationId: ID!, $after: String) {
  contacts(invitationId: $invitationId, first: 100, after: $after) {
    __typename
    edges { __typename cursor node { __typename id displayName givenName surname emailAddresses { __typename address } photo { __typename id dataUrl(size: 48) } } }
    pageInfo { __typename hasNextPage endCursor }
  }
}`;

interface Page {
  edges: { cursor: string; node: Record<string, unknown> }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const page = (result: GraphQLResult) => result.body.data!['contacts'] as Page;
const ask = (stack: Stack, query: string, variables: Record<string, unknown>) => postGraphQL(stack.url, query, { invitationId: INVITATION, ...variables }, { token: TOKEN });

/** `count` contacts whose display names sort differently from their ids, some without a given name. */
function people(count: number): SimulatedContact[] {
  return Array.from({ length: count }, (_unused, index) => ({
    id: `AAMk-${String(index).padStart(3, '0')}=`,
    displayName: `${['zoe', 'Ada', 'bob', 'Cy'][index % 4]} ${String(count - index).padStart(3, '0')}`,
    ...(index % 3 !== 0 && { givenName: `G${index}` }),
    emailAddresses: [{ address: `p${index}@example.com` }],
  }));
}

/** The names in Graph's order: case-insensitive, ties by id. */
function sortedNames(contacts: SimulatedContact[]): string[] {
  return [...contacts]
    .sort((a, b) => (a.displayName.toLowerCase() === b.displayName.toLowerCase() ? (a.id < b.id ? -1 : 1) : a.displayName.toLowerCase() < b.displayName.toLowerCase() ? -1 : 1))
    .map((contact) => contact.displayName);
}

let stack: Stack;
let picture: Buffer;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '2' } });
  picture = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#3366cc' } }).jpeg().toBuffer();
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

describe('contacts', () => {
  it('pages through 120 contacts in pages of 50 with cursors: 50, 50, 20, every contact once, in order', async () => {
    const contacts = people(120);
    stack.simulator.addContacts(INVITATION, contacts);
    const sizes: number[] = [];
    const names: unknown[] = [];
    let after: string | null = null;
    let more = true;
    while (more) {
      const result = await ask(stack, PAGE, { first: 50, after });
      expect(result.body.errors).toBeUndefined();
      const { edges, pageInfo } = page(result);
      sizes.push(edges.length);
      names.push(...edges.map((edge) => edge.node['displayName']));
      expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
      more = pageInfo.hasNextPage;
      after = pageInfo.endCursor;
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(names).toEqual(sortedNames(contacts));
    const lists = stack.simulator.requests.filter((request) => request.url.includes('/invitedUser/contacts?'));
    expect(lists.map((request) => new URL(request.url, 'http://x').searchParams.get('$skip'))).toEqual([null, '50', '100']);
    expect(new URL(lists[0]!.url, 'http://x').searchParams.get('$top')).toBe('50');
    expect(new URL(lists[0]!.url, 'http://x').searchParams.get('$orderby')).toBe('displayName');
  });

  it("continues after any edge's cursor, and answers Graph's names and addresses (null when Graph has none)", async () => {
    stack.simulator.addContacts(INVITATION, people(10));
    const first = page(await ask(stack, PAGE, { first: 5 }));
    const fromThird = page(await ask(stack, PAGE, { first: 3, after: first.edges[2]!.cursor }));
    expect(fromThird.edges.map((edge) => edge.node['id'])).toEqual(first.edges.slice(3, 5).map((edge) => edge.node['id']).concat([expect.any(String)]));
    const withoutGivenName = [...first.edges, ...fromThird.edges].find((edge) => edge.node['givenName'] === null);
    expect(withoutGivenName?.node['emailAddresses']).toEqual([{ address: expect.stringMatching(/@example\.com$/) }]);
  });

  it('answers an empty page with no endCursor and no next page', async () => {
    const { edges, pageInfo } = page(await ask(stack, PAGE, {}));
    expect(edges).toEqual([]);
    expect(pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it.each([0, 101, -1, null])('refuses first = %p as BAD_USER_INPUT naming first, with no Graph request', async (first) => {
    const before = stack.simulator.httpRequestCount;
    const result = await ask(stack, PAGE, { first });
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    expect(result.body.data).toBeNull();
    expect(stack.simulator.httpRequestCount).toBe(before);
  });

  it.each([
    ['a forged cursor', () => Buffer.from('https://evil.example/contacts?$skip=0').toString('base64url'), /not a cursor of this list/],
    ['a stale cursor (made for another invitation)', () => encodeCursor('another-invitation', 50), /another invitation/],
  ])('refuses %s as BAD_USER_INPUT naming after, with no Graph request', async (_case, cursor, message) => {
    const before = stack.simulator.httpRequestCount;
    const result = await ask(stack, PAGE, { after: cursor() });
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(result.body.errors?.[0]?.message).toMatch(message);
    expect(stack.simulator.httpRequestCount).toBe(before);
  });

  it('reads a page of 50 thumbnails with the list call and at most 3 batches, and no metadata read when only dataUrl is asked', async () => {
    stack.simulator.addContacts(INVITATION, people(50).map((contact, index) => ({ ...contact, ...(index % 5 !== 0 && { picture }) })));
    const result = await ask(stack, THUMBNAILS, { first: 50 });
    expect(result.body.errors).toBeUndefined();
    const nodes = page(result).edges.map((edge) => edge.node);
    expect(nodes.filter((node) => node['photo'] === null)).toHaveLength(10);
    for (const node of nodes) if (node['photo'] !== null) expect(node['photo']).toEqual({ dataUrl: expect.stringMatching(/^data:image\/jpeg;base64,/) });
    const direct = stack.simulator.requests.filter((request) => request.batchId === undefined);
    expect(direct).toHaveLength(4);
    expect(direct.filter((request) => request.url.endsWith('/$batch'))).toHaveLength(3);
    const items = stack.simulator.requests.filter((request) => request.batchId !== undefined);
    expect(items).toHaveLength(50);
    expect(items.every((request) => request.url.endsWith('/photo/$value'))).toBe(true);
  });

  it('reads a page of 50 thumbnail URLs with the list call and at most 3 batches, and no metadata read when only url is asked', async () => {
    stack.simulator.addContacts(INVITATION, people(50).map((contact, index) => ({ ...contact, ...(index % 5 !== 0 && { picture }) })));
    const result = await ask(stack, THUMBNAILS.replace('dataUrl(size: 48)', 'url(size: 48)'), { first: 50 });
    expect(result.body.errors).toBeUndefined();
    const nodes = page(result).edges.map((edge) => edge.node);
    expect(nodes.filter((node) => node['photo'] === null)).toHaveLength(10);
    for (const node of nodes) if (node['photo'] !== null) expect(node['photo']).toEqual({ url: expect.stringMatching(/^\/photos\//) });
    const direct = stack.simulator.requests.filter((request) => request.batchId === undefined);
    expect(direct).toHaveLength(4);
    expect(direct.filter((request) => request.url.endsWith('/$batch'))).toHaveLength(3);
    const items = stack.simulator.requests.filter((request) => request.batchId !== undefined);
    expect(items).toHaveLength(50);
    expect(items.every((request) => request.url.endsWith('/photo/$value'))).toBe(true);
  });

  it('reads the metadata too, in the same batches, when the photo selection asks for its id', async () => {
    stack.simulator.addContacts(INVITATION, people(10).map((contact) => ({ ...contact, picture })));
    const result = await ask(stack, THUMBNAILS.replace('photo { dataUrl(size: 48) }', 'photo { id dataUrl(size: 48) }'), { first: 10 });
    expect(page(result).edges.map((edge) => edge.node['photo'])).toEqual(Array.from({ length: 10 }, () => ({ id: '96X64', dataUrl: expect.any(String) })));
    const items = stack.simulator.requests.filter((request) => request.batchId !== undefined);
    expect(items.filter((request) => request.url.endsWith('/photo'))).toHaveLength(10);
    expect(items.filter((request) => request.url.endsWith('/photo/$value'))).toHaveLength(10);
    expect(stack.simulator.httpRequestCount).toBe(2);
  });

  it('answers one failed photo among 50 as null with its error at its path, the other 49 pictures there', async () => {
    const contacts = people(50).map((contact) => ({ ...contact, picture }));
    stack.simulator.addContacts(INVITATION, contacts);
    const failing = contacts[7]!.id;
    stack.simulator.fail({ contactId: failing, status: 403, times: Infinity });
    const result = await ask(stack, THUMBNAILS, { first: 50 });
    const nodes = page(result).edges.map((edge) => edge.node);
    const index = nodes.findIndex((node) => node['id'] === failing);
    expect(result.body.errors).toEqual([expect.objectContaining({ path: ['contacts', 'edges', index, 'node', 'photo'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(nodes[index]!['photo']).toBeNull();
    expect(nodes.filter((node) => (node['photo'] as { dataUrl?: string } | null)?.dataUrl?.startsWith('data:image/jpeg'))).toHaveLength(49);
  });

  it('maps a failed list call like any Graph error: 403 is FORBIDDEN and data.contacts null', async () => {
    stack.simulator.addContacts(INVITATION, people(3));
    stack.simulator.fail({ list: true, status: 403, code: 'ErrorAccessDenied' });
    const result = await ask(stack, PAGE, {});
    expect(result.body.data).toBeNull();
    expect(result.body.errors?.[0]).toMatchObject({ path: ['contacts'], extensions: { code: 'FORBIDDEN', upstream: { status: 403, code: 'ErrorAccessDenied' } } });
  });

  it('retries a list call answered 429 with Retry-After, and answers the page', async () => {
    stack.simulator.addContacts(INVITATION, people(3));
    stack.simulator.fail({ list: true, status: 429, retryAfter: '0.05' });
    const result = await ask(stack, PAGE, {});
    expect(result.body.errors).toBeUndefined();
    expect(page(result).edges).toHaveLength(3);
    expect(stack.simulator.requests.filter((request) => request.url.includes('/invitedUser/contacts?'))).toHaveLength(2);
  });

  it('answers BAD_GATEWAY for a list body that is not a page of contacts', async () => {
    stack.simulator.fail({ list: true, status: 200, body: { raw: JSON.stringify({ value: [{ displayName: 'no id' }] }), contentType: 'application/json' } });
    const result = await ask(stack, PAGE, {});
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('BAD_GATEWAY');
  });

  it("admits the screen's query with first: 100 under the default operation limits", async () => {
    stack.simulator.addContacts(INVITATION, people(3).map((contact) => ({ ...contact, picture })));
    const result = await ask(stack, SCREEN, {});
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(page(result).edges).toHaveLength(3);
  });

  it('refuses two full pages with photos in one operation before any Graph request (PHOTO_LIST_MAX counts first)', async () => {
    const before = stack.simulator.httpRequestCount;
    const twoPages = `query($invitationId: ID!, $n: Int) { a: contacts(invitationId: $invitationId, first: $n) { edges { node { photo { dataUrl(size: 48) } } } } b: contacts(invitationId: $invitationId) { edges { node { photo { id } } } } }`;
    const result = await ask(stack, twoPages, { n: 51 });
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(result.body.errors?.[0]?.message).toMatch(/at most 100 .* asks for 101/);
    expect(stack.simulator.httpRequestCount).toBe(before);
  });

  it('admits 11 pages in one operation: a list is a read, not under the cap of 10 Graph writes', async () => {
    stack.simulator.addContacts(INVITATION, people(2));
    const pages = Array.from({ length: 11 }, (_unused, index) => `p${index}: contacts(invitationId: $invitationId, first: 1) { edges { node { id } } }`);
    const result = await ask(stack, `query($invitationId: ID!) { ${pages.join(' ')} }`, {});
    expect(result.body.errors).toBeUndefined();
    expect(stack.simulator.httpRequestCount).toBe(11);
  });

  it('admits two pages of 50 with photos, and pages without photos whatever their size', async () => {
    const query = `query($invitationId: ID!) { a: contacts(invitationId: $invitationId, first: 50) { edges { node { photo { id } } } } b: contacts(invitationId: $invitationId) { edges { node { photo { id } } } } c: contacts(invitationId: $invitationId, first: 100) { edges { node { id } } } }`;
    const result = await ask(stack, query, {});
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });
});
