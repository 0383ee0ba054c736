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

/** The caller's `client-request-id` when it is a GUID (as Graph expects), else a new one. */
export function clientRequestId(header: string | string[] | undefined): string {
  return typeof header === 'string' && GUID.test(header) ? header : randomUUID();
}
