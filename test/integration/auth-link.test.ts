import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CombinedGraphQLErrors } from '@apollo/client';
import { createAuthLink, createContactPhotoClient, updateContactPhoto, uploadContactPhoto } from '../../examples/contact-photo-client.js';
import { twoColourImage } from '../support/images.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/**
 * The kit's sign-in link (examples/auth-link.ts) in Node, against the gateway in `obo` mode and
 * the Entra simulator: a token asked for each request, and a claims challenge (set for a user
 * through the simulator) answered by `onClaimsChallenge` and the request sent once more.
 */

let stack: SignInStack;
beforeAll(async () => {
  stack = await startSignInStack();
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.entra.clearClaimsChallenges();
  stack.graph.reset();
});

const USER = 'c5a1e8f2-3b7d-4e9a-8c6f-2d4b1a7e0a03';

describe("the kit's sign-in link", () => {
  it('asks for a token before each request', async () => {
    const token = await stack.entra.userToken({ oid: 'link-user-1' });
    let asked = 0;
    const client = createContactPhotoClient({ url: stack.url, token: () => (asked++, token) });

    await updateContactPhoto(client, 'link-invitation', 'c1', { height: 1, width: 1 });
    await updateContactPhoto(client, 'link-invitation', 'c1', { height: 2, width: 2 });

    expect(asked).toBe(2);
  });

  it('answers a claims challenge with onClaimsChallenge, given the claims as Entra sent them, then sends the request once more with the token it gives; the upload succeeds', async () => {
    const claims = stack.entra.requireAcrs(USER, 'c1');
    const challenges: string[] = [];
    const client = createContactPhotoClient({
      url: stack.url,
      token: () => stack.entra.userToken({ oid: USER }),
      onClaimsChallenge: (asked) => {
        challenges.push(asked);
        return stack.entra.userToken({ oid: USER, acrs: ['c1'] });
      },
    });
    const file = new File([await (await twoColourImage(64, 48)).jpeg().toBuffer()], 'p.jpg', { type: 'image/jpeg' });

    const uploaded = await uploadContactPhoto(client, 'link-invitation', 'c2', file);

    expect(uploaded).toMatchObject({ height: 48, width: 64 });
    expect(challenges).toEqual([claims]);
    expect(stack.graph.requests.filter((request) => request.method === 'PUT')).toHaveLength(1);
  });

  it('sends the request once more only: a second challenge reaches the caller as UNAUTHENTICATED with its claims', async () => {
    const claims = stack.entra.requireAcrs(USER, 'c2');
    let challenged = 0;
    const client = createContactPhotoClient({
      url: stack.url,
      token: () => stack.entra.userToken({ oid: USER }),
      onClaimsChallenge: () => (challenged++, stack.entra.userToken({ oid: USER, acrs: ['c1'] })),
    });

    const failure = await updateContactPhoto(client, 'link-invitation', 'c3', { height: 1, width: 1 }).catch((error: unknown) => error);

    expect(challenged).toBe(1);
    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    expect((failure as CombinedGraphQLErrors).errors[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', claims });
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('without onClaimsChallenge, passes the challenge to the caller untouched', async () => {
    stack.entra.requireAcrs(USER, 'c1');
    let asked = 0;
    const { ApolloClient, InMemoryCache, HttpLink } = await import('@apollo/client');
    const client = new ApolloClient({ link: createAuthLink({ getToken: () => (asked++, stack.entra.userToken({ oid: USER })) }).concat(new HttpLink({ uri: stack.url })), cache: new InMemoryCache() });

    const failure = await updateContactPhoto(client, 'link-invitation', 'c4', { height: 1, width: 1 }).catch((error: unknown) => error);

    expect(asked).toBe(1);
    expect((failure as CombinedGraphQLErrors).errors[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });
});
