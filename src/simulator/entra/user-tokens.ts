import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import type { SpaTenant } from './spa-grants.js';

/** What a user's token for the gateway's API may be made with, to test each refusal. */
export interface UserTokenOptions {
  oid?: string;
  /** Space-separated delegated scopes (`scp`); `null` leaves the claim out (an app-only token). */
  scp?: string | null;
  aud?: string;
  iss?: string;
  /** Seconds from now; negative for an expired token; `null` leaves `exp` out. */
  expiresInS?: number | null;
  /** Seconds from now before which the token is not valid. */
  notBeforeInS?: number;
  /** The authentication contexts met (`acrs`), as after signing in again for a claims challenge. */
  acrs?: string[];
  /** The tenant (`tid`); the simulator's own by default. */
  tid?: string;
  /** Sign with a key the tenant never published (a forged token under a known `kid`). */
  forged?: boolean;
  /** Sign with a key the tenant never published, under a `kid` it never published either. */
  unknownKid?: boolean;
  /** `HS256` with the client secret, or `none`: algorithms a verifier must refuse. */
  alg?: 'HS256' | 'none';
}

/** A user's access token for the gateway's API, as MSAL.js would get it for `api://{client id}/access_as_user`, good or deliberately bad. */
export async function signUserToken(tenant: SpaTenant & { clientSecret: string }, options: UserTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload & Record<string, unknown> = {
    aud: options.aud ?? tenant.apiClientId,
    iss: options.iss ?? tenant.issuer,
    iat: now,
    nbf: now + (options.notBeforeInS ?? 0),
    oid: options.oid ?? randomUUID(),
    tid: options.tid ?? tenant.tenantId,
    sub: randomUUID(),
    ver: '2.0',
    azp: randomUUID(),
  };
  if (options.expiresInS !== null) claims.exp = now + (options.expiresInS ?? 3600);
  if (options.scp !== null) claims['scp'] = options.scp ?? 'access_as_user';
  if (options.acrs) claims['acrs'] = options.acrs;
  if (options.alg === 'none') {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
  }
  if (options.alg === 'HS256') {
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: tenant.keys.current.kid }).sign(new TextEncoder().encode(tenant.clientSecret));
  }
  const key = tenant.keys.current;
  const signingKey = options.forged || options.unknownKid ? (await generateKeyPair('RS256')).privateKey : key.privateKey;
  const kid = options.unknownKid ? randomUUID() : key.kid;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(signingKey);
}
