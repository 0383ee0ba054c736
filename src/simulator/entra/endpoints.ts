import type { ServerResponse } from 'node:http';

export type Endpoint = 'openid-configuration' | 'keys' | 'token' | 'authorize' | 'logout';

/** Each endpoint's path under the tenant. */
export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  'openid-configuration': '/v2.0/.well-known/openid-configuration',
  keys: '/discovery/v2.0/keys',
  token: '/oauth2/v2.0/token',
  authorize: '/oauth2/v2.0/authorize',
  logout: '/oauth2/v2.0/logout',
};
export const ALLOWED_METHODS: Record<Endpoint, string[]> = {
  'openid-configuration': ['GET', 'OPTIONS'],
  keys: ['GET', 'OPTIONS'],
  token: ['POST', 'OPTIONS'],
  authorize: ['GET', 'POST'],
  logout: ['GET'],
};
/** What a browser page reads with `fetch`: the others are navigations. */
export const CORS_ENDPOINTS = new Set<Endpoint>(['openid-configuration', 'keys', 'token']);

/** A CORS preflight's answer (the origin, when allowed, is already set). */
export function preflight(response: ServerResponse, requestedHeaders: string | undefined): void {
  response.writeHead(204, { 'access-control-allow-methods': 'GET, POST', ...(requestedHeaders && { 'access-control-allow-headers': requestedHeaders }), 'access-control-max-age': '86400' });
  response.end();
}
