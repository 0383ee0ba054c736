import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '../support/graphql.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/**
 * The photo cache with sign-in (AUTH_MODE=obo): keyed by the verified caller (`tid` and `oid`),
 * not by the token. The gateway runs as its own process (see support/sign-in.ts).
 */

const READ = 'query Read($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id width height } }';
const WRITE = 'mutation Write($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) { updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) { id } }';
const ids = { invitationId: 'inv-cache-sign-in', contactId: 'contact-cache-sign-in' };

let stack: SignInStack;
beforeAll(async () => {
  stack = await startSignInStack({ env: { PHOTO_CACHE_TTL_S: '600' } });
});
afterAll(() => stack.close());

const photoReads = () => stack.graph.requests.filter((request) => request.method === 'GET' && request.contactId !== undefined).length;

async function read(token: string): Promise<unknown> {
  const result = await postGraphQL(stack.url, READ, ids, { token });
  expect(result.body.errors).toBeUndefined();
  return result.body.data!['contactPhoto'];
}

describe('AUTH_MODE=obo: the photo cache', () => {
  it('gives two users (two oids) reading the same contact their own Graph reads and their own entries, and a user’s new token the same entries', async () => {
    // Graph keeps photos per user here: each user's contact has a size of its own.
    for (const [oid, side] of [['cache-user-a', 10], ['cache-user-b', 20]] as const) {
      const written = await postGraphQL(stack.url, WRITE, { ...ids, input: { width: side, height: side } }, { token: await stack.entra.userToken({ oid }) });
      expect(written.body.errors).toBeUndefined();
    }
    const before = photoReads();

    const first = [await read(await stack.entra.userToken({ oid: 'cache-user-a' })), await read(await stack.entra.userToken({ oid: 'cache-user-b' }))];
    const afterFirst = photoReads();
    const again = [await read(await stack.entra.userToken({ oid: 'cache-user-a' })), await read(await stack.entra.userToken({ oid: 'cache-user-b' }))];

    expect(first).toEqual([
      { id: '10X10', width: 10, height: 10 },
      { id: '20X20', width: 20, height: 20 },
    ]);
    expect(afterFirst - before).toBe(2);
    // New tokens of the same users: their entries, no Graph read.
    expect(again).toEqual(first);
    expect(photoReads()).toBe(afterFirst);
  });
});

describe('AUTH_MODE=obo: the contact list cache', () => {
  const PAGE = 'query Page($invitationId: ID!) { contacts(invitationId: $invitationId, first: 5) { edges { node { id displayName } } } }';
  const listCalls = () => stack.graph.requests.filter((request) => request.method === 'GET' && request.url.includes('/invitedUser/contacts?')).length;

  async function list(oid: string): Promise<unknown> {
    const result = await postGraphQL(stack.url, PAGE, { invitationId: 'inv-list-sign-in' }, { token: await stack.entra.userToken({ oid }) });
    expect(result.body.errors).toBeUndefined();
    return result.body.data!['contacts'];
  }

  it('gives two users (two oids) listing the same page their own Graph calls, and a user’s new token the same entry', async () => {
    stack.graph.addContacts('inv-list-sign-in', [{ id: 'c1', displayName: 'One', emailAddresses: [] }]);
    const before = listCalls();

    const first = [await list('list-user-a'), await list('list-user-b')];
    const afterFirst = listCalls();
    const again = [await list('list-user-a'), await list('list-user-b')];

    expect(first).toEqual([{ edges: [{ node: { id: 'c1', displayName: 'One' } }] }, { edges: [{ node: { id: 'c1', displayName: 'One' } }] }]);
    expect(afterFirst - before).toBe(2);
    expect(again).toEqual(first);
    expect(listCalls()).toBe(afterFirst);
  });
});
