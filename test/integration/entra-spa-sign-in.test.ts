import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { EntraSimulator, GRAPH_DEFAULT_SCOPE, JWT_BEARER_GRANT } from '../../src/simulator/entra/entra-simulator.js';
import { TEST_USERS } from '../../src/simulator/entra/test-users.js';

/**
 * The Entra simulator as the authorization server of a single-page app (what MSAL.js in a browser
 * does, step by step, over HTTPS with the simulator's CA): the authorization endpoint and its
 * sign-in page, the code grant with PKCE, the refresh token grant, sign-out, CORS, and the claims
 * challenge the on-behalf-of grant answers for a user who must meet an authentication context.
 */

const PAGE_ORIGIN = 'http://127.0.0.1:4321';
const REDIRECT_URI = `${PAGE_ORIGIN}/app/redirect.html`;
const [ADELE, MEGAN] = TEST_USERS as [(typeof TEST_USERS)[number], (typeof TEST_USERS)[number]];

let entra: EntraSimulator;
let ca: string;
beforeAll(async () => {
  entra = new EntraSimulator({ spa: { redirectUris: [REDIRECT_URI] } });
  await entra.listen();
  ca = readFileSync(entra.caFile, 'utf8');
});
afterAll(() => entra.close());
beforeEach(() => {
  entra.reset();
  entra.clearClaimsChallenges();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

function request(path: string, options: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const sent = https.request(
      new URL(path, entra.authorityHost),
      { method: options.method ?? (body ? 'POST' : 'GET'), ca, headers: { ...(body && { 'content-type': 'application/x-www-form-urlencoded' }), ...options.headers } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

const tenantPath = (path: string) => `/${entra.tenantId}${path}`;
const API_SCOPE = () => `api://${entra.clientId}/access_as_user`;

/** A PKCE pair (RFC 7636, S256). */
function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization request's answer to the page, read from the redirect (its query or fragment). */
function redirectParams(answer: Answer): URLSearchParams {
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers['location'] as string);
  return new URLSearchParams(location.hash ? location.hash.slice(1) : location.search);
}

/** The authorization request, then the sign-in page's choice: the redirect's parameters. */
async function authorize(options: { user?: string; answer?: string; challenge?: string; extra?: Record<string, string> } = {}): Promise<URLSearchParams> {
  const params = new URLSearchParams({
    client_id: entra.spaClientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: `${API_SCOPE()} openid profile offline_access`,
    state: 'state-1',
    nonce: 'nonce-1',
    code_challenge: options.challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    response_mode: 'fragment',
    ...options.extra,
  });
  const page = await request(tenantPath(`/oauth2/v2.0/authorize?${params.toString()}`));
  expect(page.status).toBe(200);
  const id = /name="request" value="([^"]+)"/.exec(page.text)![1]!;
  return redirectParams(await request(tenantPath('/oauth2/v2.0/authorize'), { form: { request: id, answer: options.answer ?? 'sign-in', user: options.user ?? ADELE.oid } }));
}

function redeem(code: string, verifier: string, overrides: Record<string, string> = {}, headers: Record<string, string> = { origin: PAGE_ORIGIN }): Promise<Answer> {
  return request(tenantPath('/oauth2/v2.0/token'), {
    form: { client_id: entra.spaClientId, grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, scope: `${API_SCOPE()} openid profile offline_access`, ...overrides },
    headers,
  });
}

/** Signs `user` in as the page would: the tokens. */
async function signIn(user = ADELE.oid, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkce();
  const code = (await authorize({ user, challenge, extra })).get('code')!;
  const answer = await redeem(code, verifier, extra['claims'] ? { claims: extra['claims'] } : {});
  expect(answer.status).toBe(200);
  return answer.json();
}

function refresh(refreshToken: string, overrides: Record<string, string> = {}): Promise<Answer> {
  return request(tenantPath('/oauth2/v2.0/token'), {
    form: { client_id: entra.spaClientId, grant_type: 'refresh_token', refresh_token: refreshToken, scope: `${API_SCOPE()} openid profile offline_access`, ...overrides },
    headers: { origin: PAGE_ORIGIN },
  });
}

function onBehalfOf(assertion: string): Promise<Answer> {
  return request(tenantPath('/oauth2/v2.0/token'), {
    form: { grant_type: JWT_BEARER_GRANT, client_id: entra.clientId, client_secret: entra.clientSecret, assertion, scope: GRAPH_DEFAULT_SCOPE, requested_token_use: 'on_behalf_of' },
  });
}

describe("the Entra simulator's sign-in for a single-page app", () => {
  it('advertises in its discovery document only what it serves, each endpoint answering', async () => {
    const configuration = (await request(tenantPath('/v2.0/.well-known/openid-configuration'))).json();

    expect(configuration).toMatchObject({
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', JWT_BEARER_GRANT],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'none'],
    });
    for (const key of ['authorization_endpoint', 'end_session_endpoint', 'jwks_uri']) {
      expect((await request(configuration[key] as string)).status).not.toBe(404);
    }
  });

  it("signs a test user in through the sign-in page: a code in the fragment with the state, redeemed for tokens MSAL reads (scp, oid, tid, aud, azp; the ID token's nonce)", async () => {
    const { verifier, challenge } = pkce();
    const params = await authorize({ user: MEGAN.oid, challenge });
    const answer = await redeem(params.get('code')!, verifier);

    expect(params.get('state')).toBe('state-1');
    expect(answer.status).toBe(200);
    const tokens = answer.json();
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: API_SCOPE(), expires_in: 3600, refresh_token: expect.any(String) });
    expect(decodeJwt(tokens['access_token'] as string)).toMatchObject({ aud: entra.clientId, azp: entra.spaClientId, scp: 'access_as_user', oid: MEGAN.oid, tid: entra.tenantId, iss: entra.issuer, name: 'Megan Bowen' });
    expect(decodeJwt(tokens['access_token'] as string)['xms_cc']).toBeUndefined();
    expect(decodeJwt(tokens['id_token'] as string)).toMatchObject({ aud: entra.spaClientId, nonce: 'nonce-1', oid: MEGAN.oid, preferred_username: MEGAN.username, login_hint: MEGAN.oid });
    expect(JSON.parse(Buffer.from(tokens['client_info'] as string, 'base64url').toString())).toEqual({ uid: MEGAN.oid, utid: entra.tenantId });
  });

  it('answers in the query when asked, lists every test user, and puts the login_hint user first', async () => {
    const page = await request(
      tenantPath(`/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: entra.spaClientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: API_SCOPE(), code_challenge: pkce().challenge, code_challenge_method: 'S256', login_hint: MEGAN.username }).toString()}`),
    );
    expect(page.text.indexOf('Sign in as Megan Bowen')).toBeLessThan(page.text.indexOf('Sign in as Adele Vance'));
    expect(page.text).toContain('Sign in as Alex Wilber');

    const params = await authorize({ extra: { response_mode: 'query' } });
    expect(params.get('code')).toEqual(expect.any(String));
  });

  it('puts xms_cc in the access token when the client asks for the CP1 capability', async () => {
    const tokens = await signIn(ADELE.oid, { claims: JSON.stringify({ access_token: { xms_cc: { values: ['CP1'] } } }) });

    expect(decodeJwt(tokens['access_token'] as string)['xms_cc']).toEqual(['CP1']);
  });

  it('refuses a code redeemed with a verifier that does not match its PKCE challenge', async () => {
    const code = (await authorize()).get('code')!;
    const answer = await redeem(code, pkce().verifier);

    expect([answer.status, answer.json()['error']]).toEqual([400, 'invalid_grant']);
    expect(answer.json()['error_description']).toMatch(/^AADSTS501481: /);
  });

  it('refuses a code used a second time', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize({ challenge })).get('code')!;

    expect((await redeem(code, verifier)).status).toBe(200);
    const again = await redeem(code, verifier);
    expect([again.status, again.json()['error']]).toEqual([400, 'invalid_grant']);
    expect(again.json()['error_description']).toMatch(/^AADSTS70008: /);
  });

  it('refuses a code redeemed for another redirect URI than its own', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize({ challenge })).get('code')!;
    const answer = await redeem(code, verifier, { redirect_uri: `${PAGE_ORIGIN}/elsewhere` });

    expect([answer.status, answer.json()['error']]).toEqual([400, 'invalid_grant']);
  });

  it('answers an authorization request for an unregistered redirect URI with an error page, redirecting nowhere', async () => {
    const params = new URLSearchParams({ client_id: entra.spaClientId, redirect_uri: 'https://attacker.example/cb', response_type: 'code', scope: API_SCOPE(), code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const answer = await request(tenantPath(`/oauth2/v2.0/authorize?${params.toString()}`));

    expect(answer.status).toBe(400);
    expect(answer.headers['location']).toBeUndefined();
    expect(answer.text).toContain('AADSTS50011');
  });

  it('requires PKCE with S256: a request without, or with plain, is answered invalid_request', async () => {
    for (const method of [undefined, 'plain']) {
      const params = new URLSearchParams({ client_id: entra.spaClientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: API_SCOPE(), state: 's', ...(method && { code_challenge: 'abc', code_challenge_method: method }) });
      const answer = redirectParams(await request(tenantPath(`/oauth2/v2.0/authorize?${params.toString()}`)));
      expect([answer.get('error'), answer.get('state')]).toEqual(['invalid_request', 's']);
    }
  });

  it('answers prompt=none login_required (it keeps no session), a denied consent access_denied, and interaction_required when chosen', async () => {
    const silent = new URLSearchParams({ client_id: entra.spaClientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: API_SCOPE(), code_challenge: pkce().challenge, code_challenge_method: 'S256', prompt: 'none' });
    expect(redirectParams(await request(tenantPath(`/oauth2/v2.0/authorize?${silent.toString()}`))).get('error')).toBe('login_required');
    expect((await authorize({ answer: 'deny' })).get('error')).toBe('access_denied');
    expect((await authorize({ answer: 'interaction_required' })).get('error')).toBe('interaction_required');
  });

  it('redeems only cross-origin, as Entra does for a SPA: a request without Origin is refused', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize({ challenge })).get('code')!;
    const answer = await redeem(code, verifier, {}, {});

    expect(answer.json()['error_description']).toMatch(/^AADSTS9002327: /);
  });

  it('answers CORS for the registered origin on the token, discovery and keys endpoints, and not for another', async () => {
    const preflight = await request(tenantPath('/oauth2/v2.0/token'), { method: 'OPTIONS', headers: { origin: PAGE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const discovery = await request(tenantPath('/v2.0/.well-known/openid-configuration'), { headers: { origin: PAGE_ORIGIN } });
    const keys = await request(tenantPath('/discovery/v2.0/keys'), { headers: { origin: PAGE_ORIGIN } });
    const elsewhere = await request(tenantPath('/v2.0/.well-known/openid-configuration'), { headers: { origin: 'https://attacker.example' } });

    expect([preflight.status, preflight.headers['access-control-allow-origin']]).toEqual([204, PAGE_ORIGIN]);
    expect(discovery.headers['access-control-allow-origin']).toBe(PAGE_ORIGIN);
    expect(keys.headers['access-control-allow-origin']).toBe(PAGE_ORIGIN);
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('renews with the refresh token, and refuses it once the user signed out', async () => {
    const tokens = await signIn(MEGAN.oid);
    const renewed = await refresh(tokens['refresh_token'] as string);
    expect(renewed.status).toBe(200);
    expect(decodeJwt(renewed.json()['access_token'] as string)).toMatchObject({ oid: MEGAN.oid, scp: 'access_as_user' });

    const signOut = await request(tenantPath(`/oauth2/v2.0/logout?${new URLSearchParams({ logout_hint: MEGAN.oid, post_logout_redirect_uri: `${PAGE_ORIGIN}/app/` }).toString()}`));
    expect([signOut.status, signOut.headers['location']]).toEqual([302, `${PAGE_ORIGIN}/app/`]);

    for (const refreshToken of [tokens['refresh_token'], renewed.json()['refresh_token']] as string[]) {
      const after = await refresh(refreshToken);
      expect([after.status, after.json()['error']]).toEqual([400, 'invalid_grant']);
    }
  });

  it('does not send the browser back to an unregistered origin after sign-out', async () => {
    const signOut = await request(tenantPath(`/oauth2/v2.0/logout?${new URLSearchParams({ post_logout_redirect_uri: 'https://attacker.example/' }).toString()}`));

    expect([signOut.status, signOut.headers['location']]).toEqual([200, undefined]);
  });

  it('answers the on-behalf-of grant a claims challenge for a user set to meet an authentication context, until the user signs in asking for those claims', async () => {
    const before = await signIn(ADELE.oid);
    const claims = entra.requireAcrs(ADELE.oid, 'c1');

    const challenged = await onBehalfOf(before['access_token'] as string);
    expect(challenged.json()).toMatchObject({ error: 'interaction_required', claims });
    // A refresh cannot meet it: the user must come back.
    const silently = await refresh(before['refresh_token'] as string, { claims });
    expect(silently.json()['error']).toBe('interaction_required');

    const after = await signIn(ADELE.oid, { claims });
    expect(decodeJwt(after['access_token'] as string)['acrs']).toEqual(['c1']);
    expect((await onBehalfOf(after['access_token'] as string)).status).toBe(200);
    // Another user is not concerned.
    expect((await onBehalfOf((await signIn(MEGAN.oid))['access_token'] as string)).status).toBe(200);
  });
});
