import { randomUUID } from 'node:crypto';

const BEARER = /^Bearer +(\S+) *$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller's `Authorization` header, unchanged, when it carries a bearer token; `undefined`
 * for no header, another scheme, or `Bearer` with no token.
 */
export function bearerAuthorization(header: string | undefined): string | undefined {
  return header !== undefined && BEARER.test(header) ? header : undefined;
}

/**
 * How many `Authorization` headers the request carried. Node keeps only the first in
 * `request.headers`, so a second one (which a proxy might act on instead) is found in `rawHeaders`.
 */
export function authorizationHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/** The caller's `client-request-id` when it is a GUID (as Graph expects), else a new one. */
export function clientRequestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && GUID.test(header) ? header : randomUUID();
}
