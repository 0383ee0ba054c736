import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SimulatedContact } from '../../src/simulator/graph/graph-simulator.js';
import { postGraphQL } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The contact list's pages kept per caller (CONTACT_LIST_CACHE_TTL_S, in the photo cache's
 * store), over real sockets against the simulated Graph: the list calls Graph received are
 * counted from the simulator's requests.
 */

const INVITATION = 'inv-list-cache';

const PAGE = `query Page($invitationId: ID!, $first: Int, $after: String) {
  contacts(invitationId: $invitationId, first: $first, after: $after) {
    edges { cursor node { id displayName givenName surname emailAddresses { name address } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  edges: { cursor: string; node: Record<string, unknown> }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

function people(count: number, prefix = 'Person'): SimulatedContact[] {
  return Array.from({ length: count }, (_unused, index) => ({
    id: `AAMk-${String(index).padStart(3, '0')}=`,
    displayName: `${prefix} ${String(index).padStart(3, '0')}`,
    ...(index % 2 === 0 && { givenName: `G${index}` }),
    emailAddresses: [{ name: `N ${index}`, address: `p${index}@example.com` }],
  }));
}

/** The list calls Graph received since `from`. */
function listCallsSince(stack: Stack, from: number): number {
  return stack.simulator.requests.slice(from).filter((request) => request.method === 'GET' && request.url.includes('/invitedUser/contacts?')).length;
}

async function pageOf(stack: Stack, token: string, variables: { first?: number; after?: string | null } = {}): Promise<Page> {
  const result = await postGraphQL(stack.url, PAGE, { invitationId: INVITATION, ...variables }, { token });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!['contacts'] as Page;
}

describe('the contact list cache, per token in passthrough mode (CONTACT_LIST_CACHE_TTL_S by default)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CACHE_TTL_S: '600', GRAPH_MAX_RETRIES: '0' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.simulator.reset();
    stack.simulator.addContacts(INVITATION, people(30));
  });

  it('answers the same page read again by the same caller within the lifetime without a Graph call, and says so in the log line and the metrics', async () => {
    const first = await pageOf(stack, 'token-again', { first: 10 });
    const from = stack.simulator.requests.length;
    const hitsBefore = await metric(stack.url, 'photo_cache_reads_total{part="list",outcome="hit"}');

    const second = await pageOf(stack, 'token-again', { first: 10 });

    expect(second).toEqual(first);
    expect(first.edges).toHaveLength(10);
    expect(first.edges[0]!.node).toEqual({ id: 'AAMk-000=', displayName: 'Person 000', givenName: 'G0', surname: null, emailAddresses: [{ name: 'N 0', address: 'p0@example.com' }] });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(stack.simulator.requests.length).toBe(from);
    expect(await metric(stack.url, 'photo_cache_reads_total{part="list",outcome="hit"}')).toBe(hitsBefore + 1);
    expect(stack.logs.entries('graphql operation').at(-1)).toMatchObject({ attempts: 0, photoCacheReads: 1 });
  });

  it("makes another caller's read of the same page its own Graph call, and never answers it with the first caller's entry", async () => {
    await pageOf(stack, 'token-first', { first: 10 });
    // The mailbox changed since: the second caller's own read shows it, the first caller's entry does not.
    stack.simulator.addContacts(INVITATION, [{ id: 'AAMk-new=', displayName: 'Aaron New', emailAddresses: [] }]);
    const from = stack.simulator.requests.length;

    const other = await pageOf(stack, 'token-other', { first: 10 });
    const again = await pageOf(stack, 'token-first', { first: 10 });

    expect(listCallsSince(stack, from)).toBe(1);
    expect(other.edges[0]!.node['displayName']).toBe('Aaron New');
    expect(again.edges[0]!.node['displayName']).toBe('Person 000');
  });

  it('keeps another page (after) and another first as entries of their own', async () => {
    const first = await pageOf(stack, 'token-pages', { first: 10 });
    const from = stack.simulator.requests.length;

    const next = await pageOf(stack, 'token-pages', { first: 10, after: first.pageInfo.endCursor });
    const bigger = await pageOf(stack, 'token-pages', { first: 20 });
    const cached = [await pageOf(stack, 'token-pages', { first: 10, after: first.pageInfo.endCursor }), await pageOf(stack, 'token-pages', { first: 20 })];

    expect(listCallsSince(stack, from)).toBe(2);
    expect(next.edges.map((edge) => edge.node['displayName'])).toEqual(people(20).slice(10).map((contact) => contact.displayName));
    expect(bigger.edges).toHaveLength(20);
    expect(cached).toEqual([next, bigger]);
  });

  it('keeps no failed list call: the next read asks Graph again and answers the page', async () => {
    stack.simulator.fail({ list: true, status: 503, code: 'ServiceUnavailable' });
    const failed = await postGraphQL(stack.url, PAGE, { invitationId: INVITATION, first: 10 }, { token: 'token-failed' });
    const from = stack.simulator.requests.length;

    const page = await pageOf(stack, 'token-failed', { first: 10 });

    expect(failed.body.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(failed.body.data?.['contacts'] ?? null).toBeNull();
    expect(listCallsSince(stack, from)).toBe(1);
    expect(page.edges).toHaveLength(10);
  });

  it('joins 10 identical page reads of one caller in flight at once into one Graph call', async () => {
    stack.simulator.fail({ list: true, delayMs: 300 });
    const from = stack.simulator.requests.length;

    const pages = await Promise.all(Array.from({ length: 10 }, () => pageOf(stack, 'token-burst', { first: 10 })));

    expect(new Set(pages.map((page) => JSON.stringify(page))).size).toBe(1);
    expect(listCallsSince(stack, from)).toBe(1);
    expect(await metric(stack.url, 'photo_cache_reads_total{part="list",outcome="shared"}')).toBeGreaterThanOrEqual(9);
  });
});

describe('the contact list cache turned off (CONTACT_LIST_CACHE_TTL_S=0) beside the photo cache', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PHOTO_CACHE_TTL_S: '600', CONTACT_LIST_CACHE_TTL_S: '0' } });
  });
  afterAll(() => stack.close());

  it('reads the list from Graph every time', async () => {
    stack.simulator.addContacts(INVITATION, people(5));
    const from = stack.simulator.requests.length;

    await pageOf(stack, 'token-off', { first: 5 });
    await pageOf(stack, 'token-off', { first: 5 });

    expect(listCallsSince(stack, from)).toBe(2);
  });
});
