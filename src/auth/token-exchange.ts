import { createHash } from 'node:crypto';
import { AuthError, ConfidentialClientApplication, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import type { Got } from 'got';
import type { Logger } from 'pino';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { CallerIdentity } from './access-token-verifier.js';
import { ExpiringMemo } from '../memo/expiring-memo.js';
import { ENTRA_TIMEOUT, EntraNetworkModule } from './entra-http.js';

/** A Graph token as remembered for a caller: the header to send, and when to exchange again (epoch ms). */
export interface RememberedGraphToken {
  authorization: string;
  renewAt: number;
}

/**
 * Graph tokens shared by replicas (with `REDIS_URL`): one entry per caller, under `partition`, a
 * hash of the caller's token (never the token itself), holding that caller's Graph token only.
 * A failure to read is a miss, a failure to write is ignored: the exchange is then made again.
 */
export interface SharedTokenCache {
  get(partition: string): Promise<RememberedGraphToken | undefined>;
  set(partition: string, token: RememberedGraphToken): Promise<void>;
}

/** How much the process remembers of Graph tokens: the least recently used caller makes room. */
export interface RememberedTokenLimits {
  maxEntries: number;
  maxBytes: number;
}

/** 10,000 callers, or 32 MiB of tokens (Graph tokens are 1.5 to 4 KB), whichever comes first. */
const REMEMBERED_GRAPH_TOKENS: RememberedTokenLimits = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 };
/** A Graph token is exchanged again this long before it expires (MSAL's own renewal offset). */
const RENEW_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

export interface ExchangeSettings {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  graphScopes: string[];
}

/** Each checked caller's partition, made once: `graphAuthorization` runs on every Graph attempt. */
const partitions = new WeakMap<CallerIdentity, string>();

/**
 * The partition of a caller: the SHA-256 of its token, so that no token is kept as a key. The
 * verifier hands back the same identity for the same token while it remembers it, so the hash is
 * worked out once per caller rather than once per attempt.
 */
function partitionOf(caller: CallerIdentity): string {
  let partition = partitions.get(caller);
  if (partition === undefined) partitions.set(caller, (partition = createHash('sha256').update(caller.token).digest('base64url')));
  return partition;
}

/**
 * Graph tokens for callers, by the OAuth 2.0 on-behalf-of grant (`@azure/msal-node`): one
 * confidential client for the process, its requests through the gateway's HTTP client. The
 * Graph token of each caller is remembered here, per hash of the caller's token, in the process
 * (bounded) and, with `REDIS_URL`, in Redis for the other replicas, so that a caller's next calls
 * within the token's life make no token request.
 *
 * MSAL's own token cache is not what is shared: it is one in-memory store per client that merges
 * whatever is loaded into it, so under concurrent exchanges no load or save of it can be one
 * caller's alone (every partition carried everyone's tokens). It is emptied after each exchange.
 */
export class OnBehalfOfExchange {
  readonly #client: ConfidentialClientApplication;
  readonly #scopes: string[];
  readonly #shared: SharedTokenCache | undefined;
  readonly #logger: Logger;
  /**
   * The Graph token of each caller, until near its expiry: a map look-up, where MSAL's cache
   * look-up (a client and an authority per call, a walk of the cache) cost more CPU than the
   * rest of a call (bench/README.md, "Sign-in").
   */
  readonly #exchanged: ExpiringMemo<string>;
  /** Exchanges under way, by partition: a caller's concurrent first calls share one. */
  readonly #pending = new Map<string, Promise<string>>();
  /** Until when (epoch ms) the token endpoint asked to be left alone, after a 429 or 5xx. */
  #busyUntil = 0;

  constructor(settings: ExchangeSettings, http: Got, logger: Logger, shared?: SharedTokenCache, limits: RememberedTokenLimits = REMEMBERED_GRAPH_TOKENS) {
    const authorityHost = new URL(settings.authorityHost);
    this.#client = new ConfidentialClientApplication({
      auth: {
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        authority: `${authorityHost.origin}/${settings.tenantId}`,
        // Without it, MSAL asks login.microsoftonline.com about any other host (instance
        // discovery), which a national cloud or the simulator is not known to.
        knownAuthorities: [authorityHost.host],
      },
      system: { networkClient: new EntraNetworkModule(http, (retryAfterS) => this.keepAway(retryAfterS)) },
    });
    this.#scopes = settings.graphScopes;
    this.#shared = shared;
    this.#logger = logger;
    this.#exchanged = new ExpiringMemo<string>(limits.maxEntries, { maxBytes: limits.maxBytes, bytesOf: (key, value) => key.length + value.length });
  }

  /**
   * The `Authorization` header for Graph on behalf of `caller`: remembered while its token
   * lives, else from the token endpoint.
   *
   * @throws GatewayError: UNAUTHENTICATED (HTTP 401 with `WWW-Authenticate`) when the caller must
   *   sign in again or consent (`extensions.reason`, and `extensions.claims` for a claims
   *   challenge), INTERNAL_SERVER_ERROR when Entra refuses the gateway's own credentials,
   *   UPSTREAM_UNAVAILABLE (HTTP 503 with `Retry-After` when Entra asked for a wait) or
   *   GATEWAY_TIMEOUT when no token came.
   */
  async graphAuthorization(caller: CallerIdentity): Promise<string> {
    const partition = partitionOf(caller);
    const remembered = this.#exchanged.get(partition);
    if (remembered !== undefined) return remembered;
    let pending = this.#pending.get(partition);
    if (pending === undefined) {
      pending = this.obtain(partition, caller).finally(() => this.#pending.delete(partition));
      this.#pending.set(partition, pending);
    }
    return pending;
  }

  /** Another replica's exchange for the caller if there is one, else an exchange; remembered either way. */
  private async obtain(partition: string, caller: CallerIdentity): Promise<string> {
    const shared = await this.#shared?.get(partition);
    const usable = shared !== undefined && shared.renewAt > Date.now() ? shared : undefined;
    const token = usable ?? (await this.exchange(caller));
    this.#exchanged.set(partition, token.authorization, token.renewAt);
    if (usable === undefined) await this.#shared?.set(partition, token);
    return token.authorization;
  }

  private async exchange(caller: CallerIdentity): Promise<RememberedGraphToken> {
    const waitS = this.waitLeftS();
    if (waitS !== undefined) throw unavailable(waitS);
    try {
      const result = await this.#client.acquireTokenOnBehalfOf({ oboAssertion: caller.token, scopes: this.#scopes });
      if (!result?.accessToken || !result.expiresOn) throw new AuthError('no_access_token', 'The token endpoint answered without an access token.');
      return { authorization: `Bearer ${result.accessToken}`, renewAt: result.expiresOn.getTime() - RENEW_BEFORE_EXPIRY_MS };
    } catch (error) {
      throw this.errorFrom(error, caller);
    } finally {
      // MSAL keeps each answer in its in-memory cache (with the caller's id and refresh tokens):
      // emptied here, it holds only the exchanges in flight instead of every caller's tokens.
      // Its throttling entries go too: keepAway() does that part.
      this.#client.clearCache();
    }
  }

  /** The token endpoint answered 429 or 5xx: no exchange for `retryAfterS`, as MSAL would. */
  private keepAway(retryAfterS: number): void {
    this.#busyUntil = Math.max(this.#busyUntil, Date.now() + retryAfterS * 1000);
  }

  /** Whole seconds left of the token endpoint's wait, or `undefined` when none is left. */
  private waitLeftS(): number | undefined {
    const leftMs = this.#busyUntil - Date.now();
    return leftMs > 0 ? Math.ceil(leftMs / 1000) : undefined;
  }

  private errorFrom(error: unknown, caller: CallerIdentity): GatewayError {
    if (error instanceof InteractionRequiredAuthError) {
      // `consent_required` comes as invalid_grant with that suberror; interaction_required as itself.
      return mustSignInAgain('Microsoft Entra ID needs the user to sign in again or consent before the gateway may act for them.', error.subError || error.errorCode, error.claims || undefined);
    }
    if (error instanceof ServerError && error.errorCode === 'invalid_grant') {
      return mustSignInAgain('Microsoft Entra ID no longer accepts the user’s sign-in; sign in again.', 'invalid_grant');
    }
    if (error instanceof ServerError && (error.errorCode === 'invalid_client' || error.errorCode === 'unauthorized_client')) {
      // The operator's problem, not the caller's: a line for them, a masked answer for the caller.
      this.#logger.error({ oid: caller.oid, tid: caller.tid, entraError: error.errorCode }, 'sign-in: Microsoft Entra ID refused the gateway’s own credentials (check ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET)');
      return new GatewayError(GatewayErrorCode.INTERNAL_SERVER_ERROR, null);
    }
    if (error instanceof AuthError && error.errorCode === ENTRA_TIMEOUT) {
      return new GatewayError(GatewayErrorCode.GATEWAY_TIMEOUT, 'Microsoft Entra ID did not answer the token exchange in time.');
    }
    // A 429 or 5xx (keepAway() has its wait), or no connection.
    const code = error instanceof AuthError ? error.errorCode : 'unknown';
    this.#logger.warn({ oid: caller.oid, tid: caller.tid, entraError: code }, 'sign-in: the token exchange failed');
    return unavailable(this.waitLeftS());
  }
}

/**
 * UNAUTHENTICATED for a caller who must go back to Entra ID, as HTTP 401 with the challenge
 * Microsoft's middle-tier APIs send and MSAL-based frontends read: `insufficient_claims` with the
 * claims challenge in base64 when Entra gave one (Conditional Access, consent), `invalid_token`
 * otherwise. The body keeps `reason`, and `claims` as Entra sent it.
 */
function mustSignInAgain(message: string, reason: string, claims?: string): GatewayError {
  const challenge = claims === undefined ? 'Bearer error="invalid_token"' : `Bearer error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`;
  return new GatewayError(GatewayErrorCode.UNAUTHENTICATED, message, {
    reason,
    ...(claims !== undefined && { claims }),
    http: { status: 401, headers: { 'www-authenticate': challenge } },
  });
}

/** UPSTREAM_UNAVAILABLE; HTTP 503 with `Retry-After` (and `retryAfter`) while the token endpoint asked for a wait. */
function unavailable(waitS: number | undefined): GatewayError {
  const message = 'Microsoft Entra ID could not exchange the token; retry later.';
  if (waitS === undefined) return new GatewayError(GatewayErrorCode.UPSTREAM_UNAVAILABLE, message);
  return new GatewayError(GatewayErrorCode.UPSTREAM_UNAVAILABLE, message, { retryAfter: waitS, http: { status: 503, headers: { 'retry-after': String(waitS) } } });
}
