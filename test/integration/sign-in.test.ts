import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import { postGraphQL, sandboxHeaders, type GraphQLResult } from '../support/graphql.js';
import { killRunning, runCompiled, waitFor } from '../support/process.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/**
 * Sign-in (AUTH_MODE=obo) over real sockets: the gateway as its own process, the simulator as
 * Microsoft Entra ID over HTTPS with its own CA, and Graph accepting only exchanged tokens.
 */

const READ = 'query Read($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id height } }';
const WRITE = 'mutation Write($invitationId: ID!, $contactId: ID!) { updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: { height: 64, width: 64 }) { id } }';
const ids = { invitationId: 'inv-sign-in', contactId: 'contact-sign-in' };

let stack: SignInStack;
beforeAll(async () => {
  stack = await startSignInStack({ env: { AUTH_JWKS_COOLDOWN_MS: '0', ENTRA_TIMEOUT_MS: '1000' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.entra.reset();
  stack.graph.reset();
});

const call = (query: string, token?: string) => postGraphQL(stack.url, query, ids, token === undefined ? {} : { token });
const challenge = (result: GraphQLResult) => result.headers.get('www-authenticate');

function expectNoExchangeAndNoGraphCall(): void {
  expect(stack.entra.tokenRequests).toHaveLength(0);
  expect(stack.graph.requests).toHaveLength(0);
}

describe('AUTH_MODE=obo: the caller’s token, checked by the gateway', () => {
  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const result = await call(READ);

    expect(result.status).toBe(401);
    expect(challenge(result)).toBe('Bearer');
    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expectNoExchangeAndNoGraphCall();
  });

  it('answers 401 to a contacts page without a token, before its list call, and lists it for a valid token through the exchange', async () => {
    const page = '{ contacts(invitationId: "inv-sign-in", first: 5) { edges { node { id displayName } } } }';
    const refused = await postGraphQL(stack.url, page);
    expect(refused.status).toBe(401);
    expect(challenge(refused)).toBe('Bearer');
    expectNoExchangeAndNoGraphCall();

    stack.graph.addContacts('inv-sign-in', [{ id: 'ada', displayName: 'Ada Lovelace' }]);
    const listed = await postGraphQL(stack.url, page, {}, { token: await stack.entra.userToken() });
    expect(listed.body).toEqual({ data: { contacts: { edges: [{ node: { id: 'ada', displayName: 'Ada Lovelace' } }] } } });
    expect(stack.entra.tokenRequests).toHaveLength(1);
  });

  it('answers 401 for a Graph-calling field reached through a named fragment, too', async () => {
    const result = await postGraphQL(stack.url, '{ ...Read } fragment Read on Query { contactPhoto(invitationId: "i", contactId: "c") { id } }');

    expect(result.status).toBe(401);
    expect(challenge(result)).toBe('Bearer');
    expectNoExchangeAndNoGraphCall();
  });

  it.each([
    ['malformed', async () => 'not.a.jwt'],
    ['expired', async () => stack.entra.userToken({ expiresInS: -300 })],
    ['not yet valid', async () => stack.entra.userToken({ notBeforeInS: 600 })],
    ['from another issuer', async () => stack.entra.userToken({ iss: 'https://login.example.com/other/v2.0' })],
    ['for another audience', async () => stack.entra.userToken({ aud: 'api://someone-else' })],
    ['for Graph (a token the gateway must not take as its own)', async () => stack.entra.userToken({ aud: 'https://graph.microsoft.com' })],
    ['signed by a key the tenant never published', async () => stack.entra.userToken({ forged: true })],
    ['alg none', async () => stack.entra.userToken({ alg: 'none' })],
    ['HS256 with the client secret', async () => stack.entra.userToken({ alg: 'HS256' })],
  ])('answers 401 invalid_token to a token %s, with no exchange and no Graph call', async (_case, token) => {
    const result = await call(READ, await token());

    expect(result.status).toBe(401);
    expect(challenge(result)).toBe('Bearer error="invalid_token"');
    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expectNoExchangeAndNoGraphCall();
  });

  it('answers 403 insufficient_scope to a valid token without the scope (an app-only token has none)', async () => {
    for (const scp of ['User.Read', null]) {
      const result = await call(READ, await stack.entra.userToken({ scp }));

      expect(result.status).toBe(403);
      expect(challenge(result)).toBe('Bearer error="insufficient_scope", scope="access_as_user"');
      expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
    }
    expectNoExchangeAndNoGraphCall();
  });

  it('needs no token for introspection, /healthz or /readyz', async () => {
    const introspection = await postGraphQL(stack.url, getIntrospectionQuery());
    const typename = await postGraphQL(stack.url, '{ __typename }');

    expect([introspection.status, typename.status]).toEqual([200, 200]);
    expect((await fetch(new URL('/healthz', stack.url))).status).toBe(200);
    expect((await fetch(new URL('/readyz', stack.url))).status).toBe(200);
    expectNoExchangeAndNoGraphCall();
  });

  it("pre-fills the Sandbox's Authorization header asking for a token for the gateway's API, not Graph's, and says the demo prints one", async () => {
    const html = await (await fetch(stack.url, { headers: { accept: 'text/html' } })).text();

    expect(sandboxHeaders(html)).toEqual({
      Authorization: "Bearer <a token for this gateway's API (scope access_as_user), not a Graph token; AUTH_MODE=obo npm run demo prints one>",
    });
    expectNoExchangeAndNoGraphCall();
  });
});

describe('AUTH_MODE=obo: the exchange for a Graph token', () => {
  it('exchanges a valid token once, reuses the Graph token, and sends Graph only the exchanged one', async () => {
    const token = await stack.entra.userToken({ oid: 'user-reuse' });

    const written = await call(WRITE, token);
    const read = await call(READ, token);

    expect(written.body.errors).toBeUndefined();
    expect(read.body.data).toEqual({ contactPhoto: { id: '64X64', height: 64 } });
    expect(stack.entra.tokenRequests).toHaveLength(1);
    expect(stack.entra.tokenRequests[0]).toMatchObject({ requestedTokenUse: 'on_behalf_of', scope: expect.stringContaining('https://graph.microsoft.com/.default') });
    const sentToGraph = stack.graph.requests.map((request) => request.headers.authorization);
    expect(sentToGraph).toHaveLength(2);
    for (const authorization of sentToGraph) {
      expect(authorization).not.toContain(token);
      expect(await stack.entra.graphPrincipal(authorization!.replace('Bearer ', ''))).toBe(`${stack.entra.tenantId}/user-reuse`);
    }
  });

  it('exchanges a caller’s token once for its concurrent first calls', async () => {
    const token = await stack.entra.userToken({ oid: 'user-burst' });

    const results = await Promise.all(Array.from({ length: 8 }, () => call(READ, token)));

    expect(results.every((result) => result.body.errors === undefined)).toBe(true);
    expect(stack.entra.tokenRequests).toHaveLength(1);
  });

  it('keeps each user’s photos apart: Graph sees the user, not the token', async () => {
    await call(WRITE, await stack.entra.userToken({ oid: 'user-a' }));

    const otherUser = await call(READ, await stack.entra.userToken({ oid: 'user-b' }));
    const sameUserNewToken = await call(READ, await stack.entra.userToken({ oid: 'user-a' }));

    expect(otherUser.body.data).toEqual({ contactPhoto: null });
    expect(sameUserNewToken.body.data).toEqual({ contactPhoto: { id: '64X64', height: 64 } });
  });

  it('picks up a rotated signing key without a restart', async () => {
    await stack.entra.rotateSigningKey(true);

    const result = await call(READ, await stack.entra.userToken());

    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
  });

  it('answers UNAUTHENTICATED (reason invalid_grant) when Entra no longer accepts the sign-in', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'invalid_grant' });

    const result = await call(READ, await stack.entra.userToken());

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_grant' });
    expect(stack.graph.requests).toHaveLength(0);
  });

  it.each([
    ['interaction_required with a claims challenge', { error: 'interaction_required' as const, claims: '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}' }, 'interaction_required'],
    ['consent_required (AADSTS65001)', { error: 'invalid_grant' as const, suberror: 'consent_required' }, 'consent_required'],
  ])('answers UNAUTHENTICATED with the reason and any claims for %s', async (_case, fault, reason) => {
    stack.entra.fail({ endpoint: 'token', ...fault });

    const result = await call(READ, await stack.entra.userToken());

    expect(result.body.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason, ...('claims' in fault && { claims: fault.claims }) });
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('answers GATEWAY_TIMEOUT when the token endpoint does not answer in time', async () => {
    stack.entra.fail({ endpoint: 'token', hang: true });

    const result = await call(READ, await stack.entra.userToken());

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT' });
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('answers UPSTREAM_UNAVAILABLE to a 503, and keeps away from the endpoint for its Retry-After, as MSAL does', async () => {
    stack.entra.fail({ endpoint: 'token', status: 503, retryAfter: '1' });

    const first = await call(READ, await stack.entra.userToken());
    const during = await call(READ, await stack.entra.userToken());
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await call(READ, await stack.entra.userToken());

    expect(first.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // MSAL refuses every on-behalf-of request for the Retry-After, whatever the incoming token.
    expect(during.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(after.body.errors).toBeUndefined();
    expect(stack.entra.tokenRequests).toHaveLength(2);
  });

  it('writes the caller’s oid and tid in the log, and nothing of either token', async () => {
    const token = await stack.entra.userToken({ oid: 'user-logged' });
    await call(WRITE, token);
    const graphToken = stack.graph.requests[0]!.headers.authorization!.replace('Bearer ', '');

    // The line reaches the pipe from the gateway's process a moment after the answer.
    await waitFor(() => stack.logs().some((entry) => entry['msg'] === 'graphql operation' && entry['oid'] === 'user-logged'));
    const line = stack.logs().find((entry) => entry['msg'] === 'graphql operation' && entry['oid'] === 'user-logged')!;
    expect(line).toMatchObject({ tid: stack.entra.tenantId, code: 'OK', operationName: 'Write' });
    const output = stack.gateway.output();
    expect(output).not.toContain(token.split('.')[2]);
    expect(output).not.toContain(graphToken.split('.')[2]);
    expect(output).not.toContain(stack.entra.clientSecret);
  });
});

describe('AUTH_MODE=obo: the gateway’s own credentials refused', () => {
  let wrongSecret: SignInStack;
  beforeAll(async () => {
    wrongSecret = await startSignInStack({ env: { ENTRA_CLIENT_SECRET: 'not-the-secret' } });
  });
  afterAll(() => wrongSecret.close());

  it('answers INTERNAL_SERVER_ERROR to the caller and tells the operator in one error line', async () => {
    const result = await postGraphQL(wrongSecret.url, READ, ids, { token: await wrongSecret.entra.userToken() });

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(result.body.errors![0]!.message).toBe('Internal server error.');
    await waitFor(() => wrongSecret.logs().some((entry) => entry['level'] === 50));
    const errors = wrongSecret.logs().filter((entry) => entry['level'] === 50);
    expect(errors.map((entry) => entry['msg'])).toEqual([expect.stringMatching(/refused the gateway’s own credentials/)]);
    expect(wrongSecret.gateway.output()).not.toContain('not-the-secret');
    expect(wrongSecret.graph.requests).toHaveLength(0);
  });
});

describe('AUTH_MODE=obo: start-up', () => {
  afterAll(() => killRunning());

  it('is not ready until the identity provider’s keys are read, and does not wait for them to serve', async () => {
    const { EntraSimulator } = await import('../../src/simulator/entra/entra-simulator.js');
    const entra = new EntraSimulator();
    await entra.listen();
    entra.fail({ endpoint: 'openid-configuration', status: 503, times: 1 });
    const late = await startSignInStack({ entra, noWait: true });
    try {
      const before = await fetch(new URL('/readyz', late.url));
      const healthz = await fetch(new URL('/healthz', late.url));
      const refused = await postGraphQL(late.url, READ, ids, { token: await entra.userToken() });

      expect([before.status, healthz.status]).toEqual([503, 200]);
      expect([refused.status, refused.body.errors![0]!.extensions!['code']]).toEqual([503, 'UPSTREAM_UNAVAILABLE']);
      // Discovery is retried in the background (after 1 s).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await fetch(new URL('/readyz', late.url))).status).toBe(200);
    } finally {
      await late.close();
      await entra.close();
    }
  });

  it.each(['ENTRA_TENANT_ID', 'ENTRA_CLIENT_ID', 'ENTRA_CLIENT_SECRET'])('stops with exit code 1 and one line naming %s when it is missing', async (name) => {
    const env: Record<string, string> = { PORT: '0', AUTH_MODE: 'obo', ENTRA_TENANT_ID: 't', ENTRA_CLIENT_ID: 'c', ENTRA_CLIENT_SECRET: 's', [name]: '' };

    const gateway = runCompiled('main.js', env);

    expect(await gateway.exited).toBe(1);
    expect(gateway.stderr().trim()).toBe(`Invalid configuration: ${name} must be set when AUTH_MODE is obo (got "").`);
  });
});
