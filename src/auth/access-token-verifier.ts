import type { Got } from 'got';
import { jwtVerify } from 'jose';
import type { Logger } from 'pino';
import { ExpiringMemo } from '../memo/expiring-memo.js';
import { nextRetryMs, SigningKeys, SigningKeysUnavailableError } from './signing-keys.js';


/** Who is calling, from a token the gateway checked itself. */
export interface CallerIdentity {
  /** The token as received: exchanged on-behalf-of, never forwarded, never logged. */
  token: string;
  /** The user's object id in the tenant (`oid`), for logs and traces. */
  oid: string;
  /** The tenant (`tid`). */
  tid: string;
}

/**
 * Why a token was refused, as RFC 6750 names it: `invalid_token` (malformed, expired, not yet
 * valid, another issuer or audience, a bad signature or algorithm) or `insufficient_scope`.
 */
export class AccessTokenRefusal extends Error {
  constructor(
    readonly reason: 'invalid_token' | 'insufficient_scope',
    message: string,
  ) {
    super(message);
    this.name = 'AccessTokenRefusal';
  }
}

export interface VerifierSettings {
  authorityHost: string;
  tenantId: string;
  audiences: string[];
  requiredScope: string;
  jwksCooldownMs: number;
  jwksRefreshMs: number;
}

/** Why the gateway cannot check every token now, for `/readyz`. */
export interface NotReady {
  status: 'starting' | 'signing-keys-unavailable';
  reason: string;
}

/**
 * Tokens remembered as checked, at most (each until its own `exp`), and their bytes at most: a
 * token is 1.5 to 4 KB, so the byte bound is the one that holds for real Entra tokens.
 */
const CHECKED_TOKENS = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 };

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
const CLOCK_TOLERANCE_S = 60;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks the tokens callers send for the gateway's own API, locally, as Microsoft prescribes for
 * a middle-tier API (docs/graph-behaviour.md, "Sign-in"): issuer and keys from the tenant's OpenID
 * configuration, RS256 signatures by a published key (see signing-keys.ts), one of the gateway's
 * audiences, `exp`/`nbf`, the tenant in `tid`, and the required delegated scope in `scp`.
 * Discovery runs in the background from `start()`, retried until it succeeds; until then
 * `notReady` says so and no token is accepted.
 */
export class AccessTokenVerifier {
  readonly #settings: VerifierSettings;
  readonly #http: Got;
  readonly #logger: Logger;
  /** From discovery: the issuer, the tenant id `tid` must name (lower case), the keys. */
  #keys: { issuer: string; tenantId: string; jwks: SigningKeys } | undefined;
  /** Tokens already checked, until their `exp`: a token's signature and claims cannot change. */
  readonly #checked = new ExpiringMemo<CallerIdentity>(CHECKED_TOKENS.maxEntries, {
    maxBytes: CHECKED_TOKENS.maxBytes,
    // The identity holds the same token string as the key: counted once.
    bytesOf: (token, identity) => token.length + identity.oid.length + identity.tid.length,
  });
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(settings: VerifierSettings, http: Got, logger: Logger) {
    this.#settings = settings;
    this.#http = http;
    this.#logger = logger;
  }

  /** Why not every valid token can be checked now (never read, or the keys cannot be read); `undefined` when ready. */
  get notReady(): NotReady | undefined {
    if (this.#keys === undefined) return { status: 'starting', reason: 'reading the identity provider’s configuration' };
    const problem = this.#keys.jwks.problem;
    if (problem === undefined) return undefined;
    return { status: this.#keys.jwks.everRead ? 'signing-keys-unavailable' : 'starting', reason: problem };
  }

  /** Starts discovery in the background (start-up does not wait for it). */
  start(): void {
    void this.discover(nextRetryMs(undefined));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#keys?.jwks.stop();
  }

  /**
   * The caller of a valid token with the required scope.
   *
   * @throws AccessTokenRefusal for a token that must be refused; SigningKeysUnavailableError when the keys that would tell cannot be read.
   */
  async verify(token: string): Promise<CallerIdentity> {
    const known = this.#checked.get(token);
    if (known) return known;
    const keys = this.#keys;
    if (!keys) throw new SigningKeysUnavailableError(1);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys.jwks.getKey, {
        issuer: keys.issuer,
        audience: this.#settings.audiences,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof SigningKeysUnavailableError) throw error;
      // jose's message says what failed ("\"exp\" claim timestamp check failed"), never the token.
      throw new AccessTokenRefusal('invalid_token', `The access token is not valid: ${(error as Error).message}`);
    }
    const { oid, tid, scp } = payload as { oid?: unknown; tid?: unknown; scp?: unknown };
    if (typeof oid !== 'string' || typeof tid !== 'string') {
      throw new AccessTokenRefusal('invalid_token', 'The access token has no user (oid and tid claims).');
    }
    // `iss` names a tenant too; `tid` is the one the user signed in to, whose Graph the exchange reaches.
    if (tid.toLowerCase() !== keys.tenantId) {
      throw new AccessTokenRefusal('invalid_token', 'The access token is for another tenant (tid).');
    }
    if (typeof scp !== 'string' || !scp.split(' ').includes(this.#settings.requiredScope)) {
      throw new AccessTokenRefusal('insufficient_scope', `The access token lacks the delegated scope ${this.#settings.requiredScope}.`);
    }
    const identity = { token, oid, tid };
    // Until `exp`, the tolerance granted above not included: a remembered token never outlives its own validity.
    this.#checked.set(token, identity, (payload.exp as number) * 1000);
    return identity;
  }

  private async discover(waitMs: number): Promise<void> {
    const { authorityHost, tenantId, jwksCooldownMs, jwksRefreshMs } = this.#settings;
    const url = `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`;
    try {
      const response = await this.#http(url, { responseType: 'json' });
      const configuration = response.body as { issuer?: unknown; jwks_uri?: unknown };
      if (response.statusCode !== 200 || typeof configuration.issuer !== 'string' || typeof configuration.jwks_uri !== 'string') {
        throw new Error(`the OpenID configuration answered ${response.statusCode} without an issuer and jwks_uri`);
      }
      const tenant = tenantIdOf(tenantId, configuration.issuer);
      if (this.#stopped) return;
      const jwks = new SigningKeys(configuration.jwks_uri, this.#http, { cooldownMs: jwksCooldownMs, refreshMs: jwksRefreshMs }, this.#logger);
      this.#keys = { issuer: configuration.issuer, tenantId: tenant, jwks };
      // Read the keys now (a failure is retried by SigningKeys): ready once a token can be checked without waiting.
      if (await jwks.read()) this.#logger.info({ issuer: configuration.issuer }, 'sign-in: identity provider keys read');
    } catch (error) {
      if (this.#stopped) return;
      this.#logger.warn({ err: { message: (error as Error).message }, retryInMs: waitMs }, 'sign-in: could not read the identity provider’s configuration or keys');
      this.#retry = setTimeout(() => void this.discover(nextRetryMs(waitMs)), waitMs);
      this.#retry.unref();
    }
  }
}

/**
 * The tenant id (a GUID, lower case) that tokens' `tid` must name: `ENTRA_TENANT_ID` itself, or,
 * when that is a domain name (`contoso.onmicrosoft.com`), the id its discovered issuer names
 * (`{authority host}/{tenant id}/v2.0`), as Entra answers a domain's OpenID configuration.
 */
function tenantIdOf(configured: string, issuer: string): string {
  if (GUID.test(configured)) return configured.toLowerCase();
  const named = new URL(issuer).pathname.split('/')[1] ?? '';
  if (!GUID.test(named)) throw new Error(`the issuer ${issuer} names no tenant id for ENTRA_TENANT_ID ${configured}`);
  return named.toLowerCase();
}
