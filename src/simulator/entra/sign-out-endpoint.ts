import type { ServerResponse } from 'node:http';
import { escapeHtml, redirect, sendHtml } from './http-answers.js';
import type { SpaClient } from './spa-client.js';
import { findTestUser } from './test-users.js';

/**
 * `GET .../oauth2/v2.0/logout` (the `end_session_endpoint`): the user MSAL names in `logout_hint`
 * (the ID token's `login_hint`) is signed out of the SPA, its refresh tokens refused from now on,
 * and the browser goes back to `post_logout_redirect_uri` when that is on a registered origin
 * (else a page says it is done: the simulator never redirects to a site the app did not register).
 */
export function signOut(spa: SpaClient, params: URLSearchParams, response: ServerResponse): void {
  const user = findTestUser(params.get('logout_hint'));
  if (user) spa.signOut(user.oid);
  const back = params.get('post_logout_redirect_uri');
  const origin = back !== null && URL.canParse(back) ? new URL(back).origin : undefined;
  if (back !== null && spa.allowsOrigin(origin)) return redirect(response, back);
  sendHtml(response, 200, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><p>${escapeHtml(user?.name ?? 'You')} signed out.</p></body></html>`);
}
