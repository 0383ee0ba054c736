/** What the page is about: one invitation's contacts, as a contacts screen would show them. */
export const INVITATION_ID = 'invitation-1';

/** Contacts per page: the first load, and each "Show more". */
export const PAGE_SIZE = 20;

/**
 * The bearer token without sign-in (passthrough): one given in the page's address (`#token=...`;
 * a fragment never reaches a server), else the demo's passthrough token. With sign-in, MSAL.js
 * gives a token for each request instead (auth.ts, docs/sign-in.md).
 */
export function initialToken(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? 'demo-token';
}
