/**
 * The authorization endpoint for the single-page app (the authorization code grant with PKCE,
 * RFC 7636, S256 only, as Entra requires of a SPA): a request is checked, then the sign-in page
 * lists the tenant's test users, a button each, with a way to deny consent and to answer
 * `interaction_required`; the choice comes back as a form post and is answered by a redirect to
 * the registered redirect URI, in its query or fragment (`response_mode`). No session is kept:
 * `prompt=none` is always answered `login_required`.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { escapeHtml, redirect, sendHtml } from './http-answers.js';
import { requestedClaims, type SpaClient } from './spa-client.js';
import { findTestUser, TEST_USERS, type TestUser } from './test-users.js';

/** The OpenID scopes, granted with any request and never in an access token's `scp`. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
/** The scopes the gateway's API exposes. */
export const API_SCOPES = new Set(['access_as_user']);
/** A sign-in page not answered within this long is forgotten. */
const PENDING_LIFETIME_MS = 10 * 60 * 1000;

interface AuthorizationRequest {
  redirectUri: string;
  responseMode: 'query' | 'fragment';
  state: string | null;
  nonce: string | null;
  codeChallenge: string;
  scopes: string[];
  claims: string | null;
  loginHint: string | null;
  expiresAt: number;
}

/**
 * The API's scopes among `scope` (`api://{id}/access_as_user` or `{id}/access_as_user`), or a
 * sentence saying what is wrong: one resource per request, as Entra's v2.0 endpoint requires.
 */
export function apiScopes(scope: string | null, apiClientId: string): string[] | string {
  const asked = (scope ?? '').split(' ').filter((each) => each !== '' && !OIDC_SCOPES.has(each));
  const granted: string[] = [];
  for (const each of asked) {
    const match = /^(?:api:\/\/)?([^/]+)\/([^/]+)$/.exec(each);
    if (!match || match[1] !== apiClientId || !API_SCOPES.has(match[2]!)) return `The scope '${each}' is not one the application exposes.`;
    granted.push(match[2]!);
  }
  return granted.length > 0 ? granted : `The scope must name the API's scope (api://${apiClientId}/access_as_user).`;
}

export class AuthorizeEndpoint {
  readonly #spa: SpaClient;
  readonly #apiClientId: string;
  readonly #pending = new Map<string, AuthorizationRequest>();

  constructor(spa: SpaClient, apiClientId: string) {
    this.#spa = spa;
    this.#apiClientId = apiClientId;
  }

  /** `GET .../oauth2/v2.0/authorize?...`. */
  start(params: URLSearchParams, response: ServerResponse): void {
    const redirectUri = params.get('redirect_uri');
    // Before either is known good, nothing is redirected anywhere (AADSTS700016, AADSTS50011).
    if (params.get('client_id') !== this.#spa.clientId) return errorPage(response, 700016, `The application '${params.get('client_id') ?? ''}' was not found in the tenant.`);
    if (!this.#spa.hasRedirectUri(redirectUri)) return errorPage(response, 50011, `The redirect URI '${redirectUri ?? ''}' does not match the redirect URIs configured for the application.`);
    const responseMode = params.get('response_mode') ?? 'query';
    if (responseMode !== 'query' && responseMode !== 'fragment') return errorPage(response, 900144, 'response_mode must be query or fragment (form_post is not served).');
    const answer = (error: string, description: string) => this.#answer(response, { redirectUri: redirectUri!, responseMode, state: params.get('state') }, { error, error_description: description });
    if (params.get('response_type') !== 'code') return answer('unsupported_response_type', 'AADSTS700054: response_type must be code.');
    const codeChallenge = params.get('code_challenge');
    if (!codeChallenge || params.get('code_challenge_method') !== 'S256') {
      return answer('invalid_request', 'AADSTS9002325: Proof Key for Code Exchange (S256) is required for cross-origin authorization code redemption.');
    }
    const scopes = apiScopes(params.get('scope'), this.#apiClientId);
    if (typeof scopes === 'string') return answer('invalid_scope', `AADSTS70011: ${scopes}`);
    if (params.get('prompt') === 'none') return answer('login_required', 'AADSTS50058: A silent sign-in request was sent but no user is signed in.');
    const id = randomUUID();
    const request = { redirectUri: redirectUri!, responseMode, state: params.get('state'), nonce: params.get('nonce'), codeChallenge, scopes, claims: params.get('claims'), loginHint: params.get('login_hint') } as const;
    this.#pending.set(id, { ...request, expiresAt: Date.now() + PENDING_LIFETIME_MS });
    sendHtml(response, 200, signInPage(id, findTestUser(request.loginHint)));
  }

  /** `POST .../oauth2/v2.0/authorize`: the sign-in page's choice. */
  finish(params: URLSearchParams, response: ServerResponse): void {
    const id = params.get('request') ?? '';
    const request = this.#pending.get(id);
    this.#pending.delete(id);
    if (!request || request.expiresAt < Date.now()) return errorPage(response, 50058, 'The sign-in page has expired; start again from the application.');
    const user = findTestUser(params.get('user'));
    switch (params.get('answer')) {
      case 'deny':
        return this.#answer(response, request, { error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.' });
      case 'interaction_required':
        return this.#answer(response, request, { error: 'interaction_required', error_description: `AADSTS50076: ${user?.name ?? 'The user'} must use multi-factor authentication.` });
      case 'sign-in':
        if (!user) return errorPage(response, 50034, 'The user account does not exist in the tenant.');
        return this.#answer(response, request, { code: this.#issueCode(request, user) });
      default:
        return errorPage(response, 900144, 'answer must be sign-in, deny or interaction_required.');
    }
  }

  #issueCode(request: AuthorizationRequest, user: TestUser): string {
    const { capabilities, acrs } = requestedClaims(request.claims);
    // Signing in again with an authentication context asked for (a claims challenge) meets it.
    return this.#spa.issueCode({ user, scopes: request.scopes, capabilities, acrs, redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, nonce: request.nonce ?? undefined });
  }

  #answer(response: ServerResponse, to: Pick<AuthorizationRequest, 'redirectUri' | 'responseMode' | 'state'>, fields: Record<string, string>): void {
    const params = new URLSearchParams({ ...fields, ...(to.state !== null && { state: to.state }) });
    redirect(response, `${to.redirectUri}${to.responseMode === 'fragment' ? '#' : '?'}${params.toString()}`);
  }
}

function errorPage(response: ServerResponse, aadsts: number, description: string): void {
  sendHtml(response, 400, page('Sign-in error', `<p role="alert">AADSTS${aadsts}: ${escapeHtml(description)}</p>`));
}

/** The sign-in page: a form per user (the hinted one first), and the two refusals. */
function signInPage(id: string, hinted: TestUser | undefined): string {
  const users = hinted ? [hinted, ...TEST_USERS.filter((user) => user !== hinted)] : TEST_USERS;
  const button = (answer: string, label: string, user?: TestUser) =>
    `<form method="post"><input type="hidden" name="request" value="${id}"><input type="hidden" name="answer" value="${answer}">${
      user ? `<input type="hidden" name="user" value="${user.oid}">` : ''
    }<button type="submit">${escapeHtml(label)}</button></form>`;
  const rows = users.map((user) => `<li>${button('sign-in', `Sign in as ${user.name}`, user)} <small>${escapeHtml(user.username)}</small> ${button('interaction_required', `Answer interaction_required for ${user.name}`, user)}</li>`);
  return page('Sign in', `<h1>Sign in</h1><p>The Entra ID simulator's test users:</p><ul>${rows.join('')}</ul>${button('deny', 'Deny consent')}`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}: Entra ID simulator</title><link rel="icon" href="data:,"><style>form{display:inline}li{margin:.5em 0}</style></head><body>${body}</body></html>`;
}
