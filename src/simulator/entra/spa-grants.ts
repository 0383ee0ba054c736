/**
 * The token endpoint's grants for the single-page app, a public client (no secret): the
 * authorization code (its PKCE verifier, its redirect URI, once only) and the refresh token
 * (until sign-out). Each answers an access token for the gateway's API, an ID token (with the
 * request's `nonce` for a code), a new refresh token and `client_info`, as MSAL.js reads them.
 */
import type { ServerResponse } from 'node:http';
import { oauthError, send } from './http-answers.js';
import { apiScopes } from './authorize-endpoint.js';
import { acrsChallenge, pkceMatches, requestedClaims, SPA_REFRESH_TOKEN_LIFETIME_S, type Grant, type SpaClient } from './spa-client.js';
import type { TenantKeys } from './signing-keys.js';

export interface SpaTenant {
  tenantId: string;
  issuer: string;
  /** The gateway's app: the audience of the access tokens. */
  apiClientId: string;
  keys: TenantKeys;
  /** Access and ID tokens' lifetime, in seconds. */
  accessTokenLifetimeS(): number;
  /** The authentication context a user must meet (a claims challenge set for them), if any. */
  requiredAcrs(oid: string): string | undefined;
}

/** `grant_type=authorization_code` or `refresh_token`, from the SPA (its `Origin` sent, as a browser sends it). */
export async function answerSpaGrant(tenant: SpaTenant, spa: SpaClient, params: URLSearchParams, origin: string | undefined, response: ServerResponse): Promise<void> {
  if (params.get('client_id') !== spa.clientId) return oauthError(response, 'invalid_client', 700016, `The application '${params.get('client_id') ?? ''}' was not found in the tenant.`);
  // Entra redeems a SPA's codes and refresh tokens only cross-origin, from a browser.
  if (origin === undefined) return oauthError(response, 'invalid_request', 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.");
  const grant = params.get('grant_type') === 'authorization_code' ? redeemCode(spa, params) : refresh(tenant, spa, params);
  if ('refused' in grant) return oauthError(response, ...grant.refused);
  send(response, 200, await tokenResponse(tenant, spa, grant.grant, grant.nonce));
}

/** A refusal: the OAuth error, the AADSTS code and the description. */
type Refused = { refused: [error: 'invalid_grant' | 'interaction_required', aadsts: number, description: string] };
const invalidGrant = (aadsts: number, description: string): Refused => ({ refused: ['invalid_grant', aadsts, description] });

function redeemCode(spa: SpaClient, params: URLSearchParams): { grant: Grant; nonce: string | undefined } | Refused {
  const code = spa.redeemCode(params.get('code'));
  if (!code) return invalidGrant(70008, 'The provided authorization code or refresh token has expired or was already used.');
  if (params.get('redirect_uri') !== code.redirectUri) return invalidGrant(50011, 'The redirect URI does not match the one the authorization code was issued for.');
  if (!pkceMatches(params.get('code_verifier'), code.codeChallenge)) return invalidGrant(501481, 'The code_verifier does not match the code_challenge supplied in the authorization request.');
  return { grant: code, nonce: code.nonce };
}

function refresh(tenant: SpaTenant, spa: SpaClient, params: URLSearchParams): { grant: Grant; nonce: undefined } | Refused {
  const held = spa.refreshGrant(params.get('refresh_token'));
  if (!held) return invalidGrant(700084, 'The refresh token was revoked (signed out) or has expired.');
  const scopes = apiScopes(params.get('scope'), tenant.apiClientId);
  if (typeof scopes === 'string') return invalidGrant(70011, scopes);
  const asked = requestedClaims(params.get('claims'));
  // An authentication context the sign-in did not meet needs the user: no refresh gives it.
  const unmet = asked.acrs.find((acrs) => !held.acrs.includes(acrs));
  if (unmet !== undefined) return { refused: ['interaction_required', 50076, `The authentication context ${unmet} needs the user to sign in again.`] };
  return { grant: { ...held, scopes, capabilities: asked.capabilities.length > 0 ? asked.capabilities : held.capabilities }, nonce: undefined };
}

async function tokenResponse(tenant: SpaTenant, spa: SpaClient, grant: Grant, nonce: string | undefined): Promise<Record<string, unknown>> {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = tenant.accessTokenLifetimeS();
  const { user } = grant;
  const common = { iss: tenant.issuer, iat: now, nbf: now, exp: now + lifetime, oid: user.oid, tid: tenant.tenantId, sub: user.oid, name: user.name, preferred_username: user.username, ver: '2.0' };
  const accessToken = await tenant.keys.sign({
    ...common,
    aud: tenant.apiClientId,
    azp: spa.clientId,
    azpacr: '0',
    scp: grant.scopes.join(' '),
    ...(grant.capabilities.includes('CP1') && { xms_cc: ['CP1'] }),
    ...(grant.acrs.length > 0 && { acrs: grant.acrs }),
  });
  // `login_hint` is what MSAL sends back as `logout_hint` on sign-out.
  const idToken = await tenant.keys.sign({ ...common, aud: spa.clientId, login_hint: user.oid, ...(nonce !== undefined && { nonce }) });
  return {
    token_type: 'Bearer',
    scope: grant.scopes.map((scope) => `api://${tenant.apiClientId}/${scope}`).join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: accessToken,
    refresh_token: spa.issueRefreshToken(grant),
    refresh_token_expires_in: SPA_REFRESH_TOKEN_LIFETIME_S,
    id_token: idToken,
    client_info: Buffer.from(JSON.stringify({ uid: user.oid, utid: tenant.tenantId })).toString('base64url'),
  };
}

/** The claims challenge for the on-behalf-of grant when the user's token lacks the context set for them. */
export function unmetChallenge(tenant: SpaTenant, oid: string, acrs: unknown): string | undefined {
  const required = tenant.requiredAcrs(oid);
  return required !== undefined && !(Array.isArray(acrs) && acrs.includes(required)) ? acrsChallenge(required) : undefined;
}
