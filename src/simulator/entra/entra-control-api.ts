/**
 * The Entra simulator's control over HTTP, for `npm run demo` only (the `controlApi` option), as
 * the Graph simulator's fault API: a person or a browser test sets a claims challenge for a user
 * (Conditional Access asking for an authentication context) and the lifetime of the tokens it
 * issues, and reads which grants the token endpoint received (never a token or a secret).
 *
 * - `POST /_simulator/claims-challenges` `{"user": "<oid or sign-in name>", "acrs": "c1"}`: the
 *   on-behalf-of grant answers `interaction_required` with a claims challenge for that user's
 *   tokens without `acrs` `c1` (201, the challenge); `DELETE` on it forgets them all (204).
 * - `PUT /_simulator/access-token-lifetime` `{"seconds": 600}`: of the SPA's tokens from now on (204).
 * - `GET /_simulator/token-requests`: `[{ "grantType", "clientId" }]`, oldest first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { send } from './http-answers.js';
import { findTestUser } from './test-users.js';

export const ENTRA_CONTROL_PREFIX = '/_simulator/';

export interface EntraControlTarget {
  requireAcrs(oid: string, acrs: string): string;
  clearClaimsChallenges(): void;
  setAccessTokenLifetime(seconds: number): void;
  readonly tokenRequests: ReadonlyArray<{ grantType: string | null; clientId: string | null }>;
}

export function answerControl(target: EntraControlTarget, request: IncomingMessage, path: string, body: string, response: ServerResponse): void {
  const route = `${request.method ?? 'GET'} ${path.slice(ENTRA_CONTROL_PREFIX.length)}`;
  let json: Record<string, unknown> = {};
  if (body !== '') {
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return send(response, 400, { error: 'The body must be JSON.' });
    }
  }
  switch (route) {
    case 'POST claims-challenges': {
      const user = findTestUser(typeof json['user'] === 'string' ? json['user'] : undefined);
      if (!user) return send(response, 400, { error: 'user must name a test user (an oid or a sign-in name).' });
      const acrs = typeof json['acrs'] === 'string' && /^c\d{1,2}$/.test(json['acrs']) ? json['acrs'] : 'c1';
      return send(response, 201, { user: user.oid, claims: target.requireAcrs(user.oid, acrs) });
    }
    case 'DELETE claims-challenges':
      target.clearClaimsChallenges();
      return void response.writeHead(204).end();
    case 'PUT access-token-lifetime': {
      const seconds = json['seconds'];
      if (!Number.isInteger(seconds) || (seconds as number) < 60 || (seconds as number) > 86_400) return send(response, 400, { error: 'seconds must be a whole number from 60 to 86400.' });
      target.setAccessTokenLifetime(seconds as number);
      return void response.writeHead(204).end();
    }
    case 'GET token-requests':
      return send(response, 200, target.tokenRequests.map(({ grantType, clientId }) => ({ grantType, clientId })));
    default:
      return send(response, 404, { error: `No such control endpoint: ${route}` });
  }
}
