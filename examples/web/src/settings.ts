/** What the page is about: one invitation's contacts, as a contacts screen would show them. */
export const INVITATION_ID = 'invitation-1';

export const CONTACTS: ReadonlyArray<{ id: string; name: string }> = [
  { id: 'AAMkAGI2THVSAAA=', name: 'Ada Lovelace' },
  { id: 'AAMkAGI2THVSAAB=', name: 'Grace Hopper' },
  { id: 'AAMkAGI2THVSAAC=', name: 'Margaret Hamilton' },
];

/**
 * The bearer token: the one in the page's address (`#token=...`, as `npm run demo` prints it with
 * sign-in on; a fragment never reaches a server), else the demo's passthrough token. A real page
 * gets it from MSAL.js (see the README's Sign-in section).
 */
export function initialToken(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? 'demo-token';
}
