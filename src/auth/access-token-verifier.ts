import type { Got } from 'got';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { ExpiringMemo } from './expiring-memo.js';

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

/** The tenant's keys are not known yet (discovery has not succeeded since start). */
export class SigningKeysUnknownError extends Error {
  constructor() {
    super('The gateway has not read its identity provider’s signing keys yet.');
    this.name = 'SigningKeysUnknownError';
  }
}

export interface VerifierSettings {
  authorityHost: string;
  tenantId: string;
  audiences: string[];
  requiredScope: string;
  jwksCooldownMs: number;
  timeoutMs: number;
}

/** Tokens remembered as checked, at most (each until its own `exp`). */
const CHECKED_TOKENS = 10_000;

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
const CLOCK_TOLERANCE_S = 60;
/** Waits between discovery attempts while it fails: 1 s doubling to 30 s. */
const DISCOVERY_RETRY_MS = { first: 1000, max: 30_000 };

/**
 * Checks the tokens callers send for the gateway's own API, locally, as Microsoft prescribes for
 * a middle-tier API (docs/graph-behaviour.md, "Sign-in"): issuer and keys from the tenant's OpenID
 * configuration, RS256 signatures by a published key (a new `kid` is fetched, at most once per
 * cooldown), one of the gateway's audiences, `exp`/`nbf`, and the required delegated scope in
 * `scp`. Discovery runs in the background from `start()`, retried until it succeeds; until then
 * `ready` is false and no token is accepted.
 */
export class AccessTokenVerifier {
  readonly #settings: VerifierSettings;
  readonly #http: Got;
  readonly #logger: Logger;
  #keys: { issuer: string; jwks: JWTVerifyGetKey } | undefined;
  /** Tokens already checked, until their `exp`: a token's signature and claims cannot change. */
  readonly #checked = new ExpiringMemo<CallerIdentity>(CHECKED_TOKENS);
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(settings: VerifierSettings, http: Got, logger: Logger) {
    this.#settings = settings;
    this.#http = http;
    this.#logger = logger;
  }

  /** The OpenID configuration and the keys have been read once. */
  get ready(): boolean {
    return this.#keys !== undefined;
  }

  /** Starts discovery in the background (start-up does not wait for it). */
  start(): void {
    void this.discover(DISCOVERY_RETRY_MS.first);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  /**
   * The caller of a valid token with the required scope.
   *
   * @throws AccessTokenRefusal for a token that must be refused; SigningKeysUnknownError before discovery succeeded.
   */
  async verify(token: string): Promise<CallerIdentity> {
    const known = this.#checked.get(token);
    if (known) return known;
    const keys = this.#keys;
    if (!keys) throw new SigningKeysUnknownError();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys.jwks, {
        issuer: keys.issuer,
        audience: this.#settings.audiences,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      // jose's message says what failed ("\"exp\" claim timestamp check failed"), never the token.
      throw new AccessTokenRefusal('invalid_token', `The access token is not valid: ${(error as Error).message}`);
    }
    const { oid, tid, scp } = payload as { oid?: unknown; tid?: unknown; scp?: unknown };
    if (typeof oid !== 'string' || typeof tid !== 'string') {
      throw new AccessTokenRefusal('invalid_token', 'The access token has no user (oid and tid claims).');
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
    const { authorityHost, tenantId, jwksCooldownMs, timeoutMs } = this.#settings;
    const url = `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`;
    try {
      const response = await this.#http(url, { responseType: 'json' });
      const configuration = response.body as { issuer?: unknown; jwks_uri?: unknown };
      if (response.statusCode !== 200 || typeof configuration.issuer !== 'string' || typeof configuration.jwks_uri !== 'string') {
        throw new Error(`the OpenID configuration answered ${response.statusCode} without an issuer and jwks_uri`);
      }
      const jwks = createRemoteJWKSet(new URL(configuration.jwks_uri), { cooldownDuration: jwksCooldownMs, timeoutDuration: timeoutMs });
      // Read the keys now: a gateway is ready once it can check a token without waiting.
      await jwks.reload();
      this.#keys = { issuer: configuration.issuer, jwks };
      this.#logger.info({ issuer: configuration.issuer }, 'sign-in: identity provider keys read');
    } catch (error) {
      if (this.#stopped) return;
      this.#logger.warn({ err: { message: (error as Error).message }, retryInMs: waitMs }, 'sign-in: could not read the identity provider’s configuration or keys');
      this.#retry = setTimeout(() => void this.discover(Math.min(waitMs * 2, DISCOVERY_RETRY_MS.max)), waitMs);
      this.#retry.unref();
    }
  }
}
