import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { entraHttpClient } from '../../src/auth/entra-http.js';
import { OnBehalfOfExchange, type RememberedTokenLimits } from '../../src/auth/token-exchange.js';
import { EntraSimulator, GRAPH_DEFAULT_SCOPE } from '../../src/simulator/entra/entra-simulator.js';
import { postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { waitFor } from '../support/process.js';
import { startSignInStack, type SignInStack } from '../support/sign-in.js';

/**
 * Sign-in's on-behalf-of exchange (AUTH_MODE=obo) over real sockets: what the caller is answered
 * when Entra refuses or fails the exchange, when a Graph token is exchanged again, and how much of
 * them the process remembers. The gateway runs as its own process against the Entra simulator
 * (HTTPS, its own CA), except where the exchange itself is built here to bound it tightly.
 */

const READ = 'query Read($invitationId: ID!, $contactId: ID!) { contactPhoto(invitationId: $invitationId, contactId: $contactId) { id } }';
const LIST = 'query List($invitationId: ID!, $contactIds: [ID!]!) { contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { id dataUrl } }';
const ids = { invitationId: 'inv-exchange', contactId: 'contact-exchange' };
const CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('AUTH_MODE=obo: an exchange refused or failed', () => {
  let stack: SignInStack;
  beforeAll(async () => {
    stack = await startSignInStack({ env: { ENTRA_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.entra.reset();
    stack.graph.reset();
  });

  const read = async (token?: string): Promise<GraphQLResult> => postGraphQL(stack.url, READ, ids, { token: token ?? (await stack.entra.userToken()) });

  it('answers 401 with Bearer error="invalid_token" when Entra no longer accepts the sign-in (invalid_grant)', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'invalid_grant' });

    const result = await read();

    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(result.body.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'invalid_grant' });
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('answers 401 insufficient_claims with the claims challenge in base64 when Entra sends one, and the claims in the body', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'interaction_required', claims: CLAIMS });

    const result = await read();

    expect(result.status).toBe(401);
    const challenge = /^Bearer error="insufficient_claims", claims="([A-Za-z0-9+/=]+)"$/.exec(result.headers.get('www-authenticate') ?? '');
    expect(Buffer.from(challenge![1]!, 'base64').toString('utf8')).toBe(CLAIMS);
    expect(result.body.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'interaction_required', claims: CLAIMS });
  });

  it('answers 401 invalid_token for consent_required (AADSTS65001) without a claims challenge', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'invalid_grant', suberror: 'consent_required' });

    const result = await read();

    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(result.body.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'consent_required' });
  });

  it('answers 401 with the challenge when the exchange fails for a list of photos read together', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'interaction_required', claims: CLAIMS });

    const result = await postGraphQL(stack.url, LIST, { invitationId: ids.invitationId, contactIds: ['c1', 'c2', 'c3'] }, { token: await stack.entra.userToken() });

    expect(result.status).toBe(401);
    expect(result.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_claims", claims="/);
    expect(result.body.errors!.map((error) => error.extensions)).toEqual(Array.from({ length: 3 }, () => ({ code: 'UNAUTHENTICATED', reason: 'interaction_required', claims: CLAIMS })));
    expect(stack.entra.tokenRequests).toHaveLength(1);
    expect(stack.graph.requests).toHaveLength(0);
  });

  it('answers 503 with Retry-After and retryAfter while the token endpoint asks for a wait, then exchanges the same token', async () => {
    // A wait of 3 s: long enough that the second read still falls in it on a loaded machine (with
    // 1 s, a run under Node 22 beside another Jest worker came after it: 200).
    stack.entra.fail({ endpoint: 'token', status: 503, retryAfter: '3' });
    const token = await stack.entra.userToken();

    const first = await read(token);
    const during = await read(await stack.entra.userToken());
    await sleep(3100);
    const after = await read(token);

    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(first.body.errors![0]!.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', retryAfter: 3 });
    // Another caller within the wait: refused too, told the whole seconds left of it.
    const left = Number(during.headers.get('retry-after'));
    expect(during.status).toBe(503);
    expect(left).toBeGreaterThanOrEqual(1);
    expect(left).toBeLessThanOrEqual(3);
    expect(during.body.errors![0]!.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', retryAfter: left });
    expect(after.status).toBe(200);
    expect(after.body.errors).toBeUndefined();
    expect(stack.entra.tokenRequests).toHaveLength(2);
  });

  it('does not remember a failed exchange: the same token is exchanged once the token endpoint answers again', async () => {
    stack.entra.fail({ endpoint: 'token', hang: true });
    const token = await stack.entra.userToken();

    const timedOut = await read(token);
    const again = await read(token);

    expect(timedOut.body.errors![0]!.extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT' });
    expect(again.body.errors).toBeUndefined();
    expect(stack.entra.tokenRequests).toHaveLength(2);
  });

  it('answers INTERNAL_SERVER_ERROR to unauthorized_client and tells the operator in one error line, as for invalid_client', async () => {
    stack.entra.fail({ endpoint: 'token', error: 'unauthorized_client' });
    const before = stack.logs().filter((entry) => entry['level'] === 50).length;

    const result = await read();

    expect(result.body.errors![0]!.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(result.body.errors![0]!.message).toBe('Internal server error.');
    await waitFor(() => stack.logs().filter((entry) => entry['level'] === 50).length > before);
    const lines = stack.logs().filter((entry) => entry['level'] === 50).slice(before);
    expect(lines).toEqual([expect.objectContaining({ entraError: 'unauthorized_client', msg: expect.stringMatching(/refused the gateway’s own credentials/) })]);
    expect(stack.graph.requests).toHaveLength(0);
  });
});

describe('AUTH_MODE=obo: a Graph token near its expiry', () => {
  // Graph tokens of 303 s: renewed 300 s before expiry, so 2.5 to 3.5 s after they are issued
  // (MSAL rounds the time of the request to the second).
  const entra = new EntraSimulator({ graphTokenLifetimeS: 303 });
  let stack: SignInStack;
  beforeAll(async () => {
    await entra.listen();
    stack = await startSignInStack({ entra });
  });
  afterAll(async () => {
    await stack.close();
    await entra.close();
  });

  it('is exchanged again five minutes before it expires, not after', async () => {
    const token = await entra.userToken();

    await postGraphQL(stack.url, READ, ids, { token });
    await postGraphQL(stack.url, READ, ids, { token });
    const whileFresh = entra.tokenRequests.length;
    await sleep(3600);
    const renewed = await postGraphQL(stack.url, READ, ids, { token });

    expect(whileFresh).toBe(1);
    expect(renewed.body.errors).toBeUndefined();
    expect(entra.tokenRequests).toHaveLength(2);
  });
});

describe('OnBehalfOfExchange: the Graph tokens it remembers', () => {
  const entra = new EntraSimulator();
  let trusting: ReturnType<typeof entraHttpClient>;
  beforeAll(async () => {
    await entra.listen();
    // The simulator's CA, given to this client only (the gateway's process gets it from NODE_EXTRA_CA_CERTS).
    trusting = entraHttpClient(5000).extend({ https: { certificateAuthority: await readFile(entra.caFile) } });
  });
  afterAll(() => entra.close());
  beforeEach(() => entra.reset());

  function exchangeWithin(limits: RememberedTokenLimits): OnBehalfOfExchange {
    const settings = { authorityHost: entra.authorityHost, tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, graphScopes: [GRAPH_DEFAULT_SCOPE] };
    return new OnBehalfOfExchange(settings, trusting, pino({ level: 'silent' }), undefined, limits);
  }

  async function callers(...oids: string[]) {
    return Promise.all(oids.map(async (oid) => ({ oid, tid: entra.tenantId, token: await entra.userToken({ oid }) })));
  }

  /** Which of `callers` needed a token request for their next Graph call. */
  async function exchangedAgain(exchange: OnBehalfOfExchange, ...caller: Array<{ oid: string; tid: string; token: string }>): Promise<string[]> {
    const exchanged: string[] = [];
    for (const one of caller) {
      const before = entra.tokenRequests.length;
      await exchange.graphAuthorization(one);
      if (entra.tokenRequests.length > before) exchanged.push(one.oid);
    }
    return exchanged;
  }

  it('keeps at most its count of callers, the least recently used making room', async () => {
    const exchange = exchangeWithin({ maxEntries: 2, maxBytes: 1024 * 1024 });
    const [a, b, c] = await callers('lru-a', 'lru-b', 'lru-c');

    expect(await exchangedAgain(exchange, a!, b!, a!, c!)).toEqual(['lru-a', 'lru-b', 'lru-c']);

    expect(await exchangedAgain(exchange, a!, c!, b!)).toEqual(['lru-b']);
  });

  it('keeps at most its bytes of tokens, the least recently used making room', async () => {
    const [a, b, c] = await callers('bytes-a', 'bytes-b', 'bytes-c');
    const sized = exchangeWithin({ maxEntries: 100, maxBytes: 1024 * 1024 });
    const entryBytes = 43 + (await sized.graphAuthorization(a!)).length;
    entra.reset();
    const exchange = exchangeWithin({ maxEntries: 100, maxBytes: Math.floor(entryBytes * 2.5) });

    expect(await exchangedAgain(exchange, a!, b!, a!, c!)).toEqual(['bytes-a', 'bytes-b', 'bytes-c']);

    expect(await exchangedAgain(exchange, a!, c!, b!)).toEqual(['bytes-b']);
  });
});
