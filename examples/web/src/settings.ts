/** What the page is about: one invitation's contacts, as a contacts screen would show them. */
export const INVITATION_ID = 'invitation-1';

/** Contacts per page: the first load, and each "Show more". */
export const PAGE_SIZE = 20;

/**
 * The bearer token: the one in the page's address (`#token=...`, as `npm run demo` prints it with
 * sign-in on; a fragment never reaches a server), else the demo's passthrough token. A real page
 * gets it from MSAL.js (see the README's Sign-in section), as a function the kit asks before
 * each request.
 */
export function initialToken(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? 'demo-token';
}
