import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { TestUser } from './test-users.js';

/** What a user granted a client: the access token's scopes, the client's capabilities (`CP1`), the authentication contexts met (`acrs`). */
export interface Grant {
  user: TestUser;
  /** The API's scopes, as `access_as_user` (without the `api://{id}/` prefix). */
  scopes: string[];
  /** `xms_cc`: what the client said it can handle (`CP1`: claims challenges). */
  capabilities: string[];
  /** The authentication context class references met at sign-in (`acrs`). */
  acrs: string[];
}

/** An authorization code: single-use, for the redirect URI and the PKCE challenge of its request. */
export interface AuthorizationCode extends Grant {
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  expiresAt: number;
}

interface RefreshGrant extends Grant {
  expiresAt: number;
}

/** Entra's authorization codes live 10 minutes. */
const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Entra's refresh tokens for a single-page app live 24 hours. */
export const SPA_REFRESH_TOKEN_LIFETIME_S = 24 * 60 * 60;

/**
 * The single-page app's registration (the SPA platform: its redirect URIs, and their origins
 * allowed cross-origin requests) and what it was given: codes, refresh tokens.
 */
export class SpaClient {
  readonly clientId: string;
  readonly #redirectUris = new Set<string>();
  readonly #codes = new Map<string, AuthorizationCode>();
  readonly #refreshTokens = new Map<string, RefreshGrant>();

  constructor(clientId: string, redirectUris: readonly string[] = []) {
    this.clientId = clientId;
    for (const uri of redirectUris) this.addRedirectUri(uri);
  }

  /** Registers a redirect URI of the SPA platform (exact match, as Entra compares them). */
  addRedirectUri(uri: string): void {
    this.#redirectUris.add(new URL(uri).href);
  }

  hasRedirectUri(uri: string | null): boolean {
    return uri !== null && this.#redirectUris.has(uri);
  }

  /** The origins of the redirect URIs: the ones answered with CORS headers. */
  allowsOrigin(origin: string | undefined): boolean {
    return origin !== undefined && [...this.#redirectUris].some((uri) => new URL(uri).origin === origin);
  }

  issueCode(code: Omit<AuthorizationCode, 'expiresAt'>): string {
    const value = randomBytes(32).toString('base64url');
    this.#codes.set(value, { ...code, expiresAt: Date.now() + CODE_LIFETIME_MS });
    return value;
  }

  /** The code's grant, which it gives once: a second redemption finds nothing. */
  redeemCode(value: string | null): AuthorizationCode | undefined {
    if (value === null) return undefined;
    const code = this.#codes.get(value);
    this.#codes.delete(value);
    return code && code.expiresAt > Date.now() ? code : undefined;
  }

  issueRefreshToken(grant: Grant): string {
    const value = `rt.${randomUUID()}.${randomBytes(24).toString('base64url')}`;
    this.#refreshTokens.set(value, { ...grant, expiresAt: Date.now() + SPA_REFRESH_TOKEN_LIFETIME_S * 1000 });
    return value;
  }

  refreshGrant(value: string | null): Grant | undefined {
    const grant = value === null ? undefined : this.#refreshTokens.get(value);
    return grant && grant.expiresAt > Date.now() ? grant : undefined;
  }

  /** Sign-out: the user's refresh tokens for this client stop working. */
  signOut(oid: string): void {
    for (const [value, grant] of this.#refreshTokens) if (grant.user.oid === oid) this.#refreshTokens.delete(value);
  }
}

/** Whether `verifier` is the one whose S256 challenge is `challenge` (RFC 7636). */
export function pkceMatches(verifier: string | null, challenge: string): boolean {
  return verifier !== null && createHash('sha256').update(verifier).digest('base64url') === challenge;
}

/** What a `claims` request parameter asks of the access token: capabilities (`xms_cc`) and authentication contexts (`acrs`). */
export function requestedClaims(claims: string | null): { capabilities: string[]; acrs: string[] } {
  if (!claims) return { capabilities: [], acrs: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    return { capabilities: [], acrs: [] };
  }
  const accessToken = (parsed as { access_token?: Record<string, { value?: unknown; values?: unknown }> }).access_token ?? {};
  const values = (claim: { value?: unknown; values?: unknown } | undefined): string[] =>
    [claim?.value, ...(Array.isArray(claim?.values) ? claim.values : [])].filter((each): each is string => typeof each === 'string');
  return { capabilities: values(accessToken['xms_cc']), acrs: values(accessToken['acrs']) };
}

/** The claims challenge Entra sends for an authentication context the user has not met. */
export function acrsChallenge(acrs: string): string {
  return JSON.stringify({ access_token: { acrs: { essential: true, value: acrs } } });
}
