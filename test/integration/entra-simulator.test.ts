import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { EntraSimulator, GRAPH_DEFAULT_SCOPE, JWT_BEARER_GRANT } from '../../src/simulator/entra/entra-simulator.js';

/** The simulator's Entra ID, over HTTPS with its own CA, as the gateway's sign-in sees it. */

let entra: EntraSimulator;
let ca: string;
beforeAll(async () => {
  entra = new EntraSimulator();
  await entra.listen();
  ca = readFileSync(entra.caFile, 'utf8');
});
afterAll(() => entra.close());
beforeEach(() => entra.reset());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One HTTPS exchange that trusts the simulator's CA only (`trust: false` trusts nothing extra). */
function request(path: string, options: { method?: string; form?: Record<string, string>; trust?: boolean } = {}): Promise<Answer> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const sent = https.request(
      `${entra.authorityHost}${path}`,
      {
        method: options.method ?? (body ? 'POST' : 'GET'),
        ...(options.trust !== false && { ca }),
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

const tenantPath = (path: string) => `/${entra.tenantId}${path}`;

function onBehalfOf(assertion: string, overrides: Record<string, string> = {}): Promise<Answer> {
  return request(tenantPath('/oauth2/v2.0/token'), {
    form: {
      grant_type: JWT_BEARER_GRANT,
      client_id: entra.clientId,
      client_secret: entra.clientSecret,
      assertion,
      scope: `${GRAPH_DEFAULT_SCOPE} openid profile offline_access`,
      requested_token_use: 'on_behalf_of',
      ...overrides,
    },
  });
}

describe('the Entra ID simulator', () => {
  it('serves its OpenID configuration and keys over TLS its own CA signs, and nothing to a client that does not trust it', async () => {
    const configuration = await request(tenantPath('/v2.0/.well-known/openid-configuration'));
    const keys = await request(tenantPath('/discovery/v2.0/keys'));
    const untrusted = await request(tenantPath('/discovery/v2.0/keys'), { trust: false }).catch((error: NodeJS.ErrnoException) => error.code);

    expect(configuration.body).toMatchObject({
      issuer: `${entra.authorityHost}/${entra.tenantId}/v2.0`,
      jwks_uri: `${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`,
      token_endpoint: `${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/token`,
    });
    expect(keys.body['keys']).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
    // The simulator sends its CA in the chain (so that a browser can pin it): Node sees a root it does not trust.
    expect(untrusted).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });

  it('issues users tokens for the gateway’s API, signed by its current key, which a rotation replaces', async () => {
    const before = decodeProtectedHeader(await entra.userToken()).kid;
    const kid = await entra.rotateSigningKey();
    const token = await entra.userToken({ oid: 'user-1' });

    expect(decodeProtectedHeader(token).kid).toBe(kid);
    expect(decodeJwt(token)).toMatchObject({ aud: entra.clientId, iss: entra.issuer, oid: 'user-1', tid: entra.tenantId, scp: 'access_as_user', ver: '2.0' });
    const published = ((await request(tenantPath('/discovery/v2.0/keys'))).body['keys'] as Array<{ kid: string }>).map((key) => key.kid);
    expect(published).toEqual([before, kid]);
  });

  it('exchanges a user’s token on behalf of the gateway for a Graph token of the same user', async () => {
    const answer = await onBehalfOf(await entra.userToken({ oid: 'user-2' }));

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, access_token: expect.any(String) });
    expect(await entra.graphPrincipal(answer.body['access_token'] as string)).toBe(`${entra.tenantId}/user-2`);
    expect(entra.tokenRequests).toEqual([expect.objectContaining({ grantType: JWT_BEARER_GRANT, requestedTokenUse: 'on_behalf_of', clientId: entra.clientId })]);
  });

  it.each([
    ['a wrong client secret', async () => onBehalfOf(await entra.userToken(), { client_secret: 'wrong' }), 401, 'invalid_client'],
    ['a forged assertion', async () => onBehalfOf(await entra.userToken({ forged: true })), 400, 'invalid_grant'],
    ['an expired assertion', async () => onBehalfOf(await entra.userToken({ expiresInS: -600 })), 400, 'invalid_grant'],
    ['an assertion for another audience', async () => onBehalfOf(await entra.userToken({ aud: 'someone-else' })), 400, 'invalid_grant'],
    ['no on_behalf_of', async () => onBehalfOf(await entra.userToken(), { requested_token_use: 'other' }), 400, 'invalid_request'],
  ])('refuses %s as Entra does', async (_case, send, status, error) => {
    const answer = await send();

    expect([answer.status, answer.body['error']]).toEqual([status, error]);
    expect(answer.body['error_description']).toMatch(/^AADSTS\d+: /);
  });

  it('answers what it is told to: consent required with a claims challenge, a 503 with Retry-After', async () => {
    entra.fail({ endpoint: 'token', error: 'invalid_grant', suberror: 'consent_required', claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' });
    entra.fail({ endpoint: 'token', status: 503, retryAfter: '1' });
    const token = await entra.userToken();

    const consent = await onBehalfOf(token);
    const unavailable = await onBehalfOf(token);

    expect(consent.body).toMatchObject({ error: 'invalid_grant', suberror: 'consent_required', claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' });
    expect(consent.body['error_description']).toMatch(/^AADSTS65001: /);
    expect([unavailable.status, unavailable.headers['retry-after']]).toEqual([503, '1']);
  });

  it('knows the Graph tokens it issued, and no other string', async () => {
    expect(await entra.graphPrincipal(await entra.userToken())).toBeUndefined();
    expect(await entra.graphPrincipal('not-a-token')).toBeUndefined();
  });
});
