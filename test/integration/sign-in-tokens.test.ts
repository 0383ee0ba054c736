import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { EntraSimulator } from '../../src/simulator/entra/entra-simulator.js';
import { postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { waitFor } from '../support/process.js';
import { startSignInStack, waitUntilReady, type SignInStack } from '../support/sign-in.js';

/**
 * Sign-in's token check (AUTH_MODE=obo) over real sockets: what a caller's token may claim, and
 * what the gateway answers when the identity provider's keys cannot be read. The gateway runs as
 * its own process, the simulator plays Entra ID (HTTPS, its own CA) and Graph.
 */

const READ = 'query Read($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id } }';
const ids = { invitationId: 'inv-tokens', contactId: 'contact-tokens' };
const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on ProfilePhoto { id } } }';
const representations = { r: [{ __typename: 'ProfilePhoto', invitationId: 'inv-tokens', contactId: 'contact-tokens' }] };

const challenge = (result: GraphQLResult) => result.headers.get('www-authenticate');
const code = (result: GraphQLResult) => result.body.errors?.[0]?.extensions?.['code'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectRefusedAsInvalid(result: GraphQLResult): void {
  expect(result.status).toBe(401);
  expect(challenge(result)).toBe('Bearer error="invalid_token"');
  expect(code(result)).toBe('UNAUTHENTICATED');
}

function expectServed(result: GraphQLResult): void {
  expect(result.body.errors).toBeUndefined();
  expect(result.status).toBe(200);
}

/** Polls `/readyz` until it answers `status`; fails after 5 s. */
async function waitForReadyz(graphqlUrl: string, status: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await fetch(new URL('/readyz', graphqlUrl))).status !== status) {
    if (Date.now() > deadline) throw new Error(`/readyz did not answer ${status}.`);
    await sleep(20);
  }
}

/** A 503 that tells the caller to retry: the token may be fine, the gateway cannot tell yet. */
function expectRetryLater(result: GraphQLResult): void {
  expect(result.status).toBe(503);
  expect(code(result)).toBe('UPSTREAM_UNAVAILABLE');
  const retryAfter = result.body.errors![0]!.extensions!['retryAfter'];
  expect(Number.isInteger(retryAfter) && (retryAfter as number) >= 1).toBe(true);
  expect(result.headers.get('retry-after')).toBe(String(retryAfter));
  expect(challenge(result)).toBeNull();
}

describe('AUTH_MODE=obo: what the caller’s token claims', () => {
  let stack: SignInStack;
  const call = (token: string) => postGraphQL(stack.url, READ, ids, { token });
  const expectNoExchangeAndNoGraphCall = () => {
    expect(stack.entra.tokenRequests).toHaveLength(0);
    expect(stack.graph.requests).toHaveLength(0);
  };

  beforeAll(async () => {
    stack = await startSignInStack({ env: { AUTH_JWKS_COOLDOWN_MS: '0', ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.entra.reset();
    stack.graph.reset();
  });

  it('answers 401 invalid_token to a token without exp, with no exchange and no Graph call', async () => {
    expectRefusedAsInvalid(await call(await stack.entra.userToken({ expiresInS: null })));
    expectNoExchangeAndNoGraphCall();
  });

  it('answers 401 invalid_token to a token of another tenant (tid), though the tenant signed it with its issuer', async () => {
    const result = await call(await stack.entra.userToken({ tid: '72f988bf-86f1-41af-91ab-2d7cd011db47' }));

    expectRefusedAsInvalid(result);
    expect(result.body.errors![0]!.message).toMatch(/tenant/);
    expectNoExchangeAndNoGraphCall();
  });

  it.each(['access_as_users', 'User.Read access_as_users', 'access_as_use', 'xaccess_as_user'])(
    'answers 403 insufficient_scope to scp "%s", which only resembles the required access_as_user',
    async (scp) => {
      const result = await call(await stack.entra.userToken({ scp }));

      expect(result.status).toBe(403);
      expect(challenge(result)).toBe('Bearer error="insufficient_scope", scope="access_as_user"');
      expectNoExchangeAndNoGraphCall();
    },
  );

  it('accepts the scope among others in scp', async () => {
    expectServed(await call(await stack.entra.userToken({ scp: 'User.Read access_as_user' })));
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('accepts the %s scheme: RFC 6750’s scheme is case-insensitive', async (scheme) => {
    const token = await stack.entra.userToken();

    const result = await postGraphQL(stack.url, READ, ids, { headers: { authorization: `${scheme} ${token}` } });

    expectServed(result);
  });

  it('refuses a token once it has expired, though it was accepted (and remembered) before', async () => {
    // Expired 56 s ago: inside the 60 s of clock skew the gateway allows, for about 4 s more.
    const token = await stack.entra.userToken({ expiresInS: -56 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };

    const first = await call(token);
    await sleep((exp.exp + 61) * 1000 - Date.now());
    const afterExpiry = await call(token);

    expectServed(first);
    expectRefusedAsInvalid(afterExpiry);
  });
});

describe('AUTH_MODE=obo with FEDERATION=true: _entities calls Graph', () => {
  let stack: SignInStack;
  beforeAll(async () => {
    stack = await startSignInStack({ env: { FEDERATION: 'true', ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.close());

  it('answers 401 with a bare Bearer challenge to _entities without a token', async () => {
    const result = await postGraphQL(stack.url, ENTITIES, representations);

    expect(result.status).toBe(401);
    expect(challenge(result)).toBe('Bearer');
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('answers 401 invalid_token to _entities with a bad token, and serves it with a good one', async () => {
    const refused = await postGraphQL(stack.url, ENTITIES, representations, { token: await stack.entra.userToken({ forged: true }) });
    const served = await postGraphQL(stack.url, ENTITIES, representations, { token: await stack.entra.userToken() });

    expectRefusedAsInvalid(refused);
    expectServed(served);
    expect(stack.entra.tokenRequests).toHaveLength(1);
  });
});

describe('AUTH_MODE=obo with ENTRA_TENANT_ID a domain name', () => {
  let stack: SignInStack;
  let entra: EntraSimulator;
  beforeAll(async () => {
    entra = new EntraSimulator({ domain: 'contoso.onmicrosoft.com' });
    await entra.listen();
    stack = await startSignInStack({ entra, env: { ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await stack.close();
    await entra.close();
  });

  it('checks tid against the tenant id its issuer names', async () => {
    const served = await postGraphQL(stack.url, READ, ids, { token: await entra.userToken() });
    const refused = await postGraphQL(stack.url, READ, ids, { token: await entra.userToken({ tid: '72f988bf-86f1-41af-91ab-2d7cd011db47' }) });

    expectServed(served);
    expectRefusedAsInvalid(refused);
  });
});

describe('AUTH_MODE=obo: when the identity provider’s keys cannot be read', () => {
  let stack: SignInStack;
  const call = (token: string) => postGraphQL(stack.url, READ, ids, { token });
  const readyz = async () => {
    const response = await fetch(new URL('/readyz', stack.url));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    // No cooldown: each unknown `kid` may fetch the keys again, so only the back-off keeps a
    // failing key endpoint from being asked once per request.
    stack = await startSignInStack({ env: { AUTH_JWKS_COOLDOWN_MS: '0', ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.entra.reset();
    stack.graph.reset();
  });

  it('answers 503 with retryAfter to a valid token of a new key, keeps serving the keys it read, backs off, and is not ready until it reads them again', async () => {
    const tokenOfReadKey = await stack.entra.userToken();
    await stack.entra.rotateSigningKey();
    stack.entra.fail({ endpoint: 'keys', status: 503, times: Infinity });

    const refused = [];
    for (let i = 0; i < 10; i++) refused.push(await call(await stack.entra.userToken()));
    const served = await call(tokenOfReadKey);
    const notReady = await readyz();

    for (const result of refused) expectRetryLater(result);
    expect(stack.entra.tokenRequests).toHaveLength(1);
    expectServed(served);
    // The first of the 10 asked; the others waited for the back-off (1 s, doubling).
    expect(stack.entra.keysRequests).toBeGreaterThanOrEqual(1);
    expect(stack.entra.keysRequests).toBeLessThanOrEqual(3);
    expect(notReady.status).toBe(503);
    expect(notReady.body['signIn']).toMatch(/keys/);

    stack.entra.reset();
    // Retried in the background, with no request needed: a replica out of rotation gets none.
    await waitUntilReady(stack.url, 15_000);
    expectServed(await call(await stack.entra.userToken()));
  });

  it('answers 401 invalid_token to a kid the key endpoint, answering, does not publish', async () => {
    const result = await call(await stack.entra.userToken({ unknownKid: true }));

    expectRefusedAsInvalid(result);
    expect(stack.entra.keysRequests).toBe(1);
    expect((await readyz()).status).toBe(200);
  });

  it('answers 503 with retryAfter while the key endpoint does not answer in time, and 401 to the same unknown kid once it answers', async () => {
    stack.entra.fail({ endpoint: 'keys', hang: true });
    const token = await stack.entra.userToken({ unknownKid: true });

    const timedOut = await call(token);
    stack.entra.reset();
    await waitUntilReady(stack.url, 15_000);
    const refused = await call(token);

    expectRetryLater(timedOut);
    expectRefusedAsInvalid(refused);
  });
});

describe('AUTH_MODE=obo: keys due for a refresh while the key endpoint fails', () => {
  let stack: SignInStack;

  beforeAll(async () => {
    stack = await startSignInStack({ env: { AUTH_JWKS_REFRESH_MS: '1000', ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.close());

  it('keeps checking tokens with the last keys it read, says not ready, and is ready again once it reads them', async () => {
    stack.entra.reset();
    stack.entra.fail({ endpoint: 'keys', status: 500, times: Infinity });
    await sleep(1200);

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await postGraphQL(stack.url, READ, ids, { token: await stack.entra.userToken() }));
    await waitFor(() => stack.entra.keysRequests >= 1);

    for (const result of results) expectServed(result);
    await waitForReadyz(stack.url, 503);
    stack.entra.reset();
    await waitUntilReady(stack.url, 15_000);
  });
});
