import { AuthError, ConfidentialClientApplication, InteractionRequiredAuthError, ServerError, type ICachePlugin } from '@azure/msal-node';
import type { Got } from 'got';
import type { Logger } from 'pino';
import { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { CallerIdentity } from './access-token-verifier.js';
import { ExpiringMemo } from './expiring-memo.js';
import { ENTRA_TIMEOUT, EntraNetworkModule } from './entra-http.js';

/**
 * A token cache shared by replicas: MSAL's cache plugin, and the scope within which the plugin
 * knows whose partition (a hash of the caller's token) it reads and writes.
 */
export interface SharedTokenCache {
  plugin: ICachePlugin;
  forCaller<T>(token: string, work: () => Promise<T>): Promise<T>;
}

/** Graph tokens remembered per incoming token, at most. */
const REMEMBERED_GRAPH_TOKENS = 10_000;
/** A Graph token is exchanged again this long before it expires (MSAL's own renewal offset). */
const RENEW_BEFORE_EXPIRY_MS = 5 * 60 * 1000;

export interface ExchangeSettings {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  graphScopes: string[];
}

/**
 * Graph tokens for callers, by the OAuth 2.0 on-behalf-of grant (`@azure/msal-node`): one
 * confidential client for the process, its requests through the gateway's HTTP client, and its
 * token cache, so a caller's second call within the Graph token's life makes no token request.
 * With `REDIS_URL`, that cache is shared by the replicas (see shared-token-cache.ts).
 */
export class OnBehalfOfExchange {
  readonly #client: ConfidentialClientApplication;
  readonly #scopes: string[];
  readonly #shared: SharedTokenCache | undefined;
  readonly #logger: Logger;
  /**
   * The Graph token of each incoming token, until near its expiry: in front of MSAL's cache,
   * whose look-up (a client and an authority per call, a walk of the cache) cost more CPU than the
   * rest of a call (bench/README.md, "Sign-in").
   */
  readonly #exchanged = new ExpiringMemo<string>(REMEMBERED_GRAPH_TOKENS);
  /** Exchanges under way, by incoming token: a caller's concurrent first calls share one. */
  readonly #pending = new Map<string, Promise<string>>();

  constructor(settings: ExchangeSettings, http: Got, logger: Logger, shared?: SharedTokenCache) {
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
      system: { networkClient: new EntraNetworkModule(http) },
      ...(shared && { cache: { cachePlugin: shared.plugin } }),
    });
    this.#scopes = settings.graphScopes;
    this.#shared = shared;
    this.#logger = logger;
  }

  /**
   * The `Authorization` header for Graph on behalf of `caller`: from the cache while its token
   * lives, else from the token endpoint.
   *
   * @throws GatewayError: UNAUTHENTICATED when the caller must sign in again or consent
   *   (`extensions.reason`, and `extensions.claims` for a claims challenge), INTERNAL_SERVER_ERROR
   *   when Entra refuses the gateway's own credentials, UPSTREAM_UNAVAILABLE or GATEWAY_TIMEOUT
   *   when no token came.
   */
  async graphAuthorization(caller: CallerIdentity): Promise<string> {
    const remembered = this.#exchanged.get(caller.token);
    if (remembered !== undefined) return remembered;
    let pending = this.#pending.get(caller.token);
    if (pending === undefined) {
      pending = this.exchange(caller).finally(() => this.#pending.delete(caller.token));
      this.#pending.set(caller.token, pending);
    }
    return pending;
  }

  private async exchange(caller: CallerIdentity): Promise<string> {
    const acquire = async (): Promise<string> => {
      // With the shared cache, the caller's partition is read first: MSAL reads its in-memory
      // cache without asking the plugin, so another replica's token would not be seen.
      if (this.#shared) await this.#client.getTokenCache().getAllAccounts();
      const result = await this.#client.acquireTokenOnBehalfOf({ oboAssertion: caller.token, scopes: this.#scopes });
      if (!result?.accessToken) throw new AuthError('no_access_token', 'The token endpoint answered without an access token.');
      const authorization = `Bearer ${result.accessToken}`;
      if (result.expiresOn) this.#exchanged.set(caller.token, authorization, result.expiresOn.getTime() - RENEW_BEFORE_EXPIRY_MS);
      return authorization;
    };
    try {
      return await (this.#shared ? this.#shared.forCaller(caller.token, acquire) : acquire());
    } catch (error) {
      throw this.errorFrom(error, caller);
    }
  }

  private errorFrom(error: unknown, caller: CallerIdentity): GatewayError {
    if (error instanceof InteractionRequiredAuthError) {
      // `consent_required` comes as invalid_grant with that suberror; interaction_required as itself.
      return new GatewayError(GatewayErrorCode.UNAUTHENTICATED, 'Microsoft Entra ID needs the user to sign in again or consent before the gateway may act for them.', {
        reason: error.subError || error.errorCode,
        ...(error.claims && { claims: error.claims }),
      });
    }
    if (error instanceof ServerError && error.errorCode === 'invalid_grant') {
      return new GatewayError(GatewayErrorCode.UNAUTHENTICATED, 'Microsoft Entra ID no longer accepts the user’s sign-in; sign in again.', { reason: 'invalid_grant' });
    }
    if (error instanceof ServerError && (error.errorCode === 'invalid_client' || error.errorCode === 'unauthorized_client')) {
      // The operator's problem, not the caller's: a line for them, a masked answer for the caller.
      this.#logger.error({ oid: caller.oid, tid: caller.tid, entraError: error.errorCode }, 'sign-in: Microsoft Entra ID refused the gateway’s own credentials (check ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET)');
      return new GatewayError(GatewayErrorCode.INTERNAL_SERVER_ERROR, null);
    }
    if (error instanceof AuthError && error.errorCode === ENTRA_TIMEOUT) {
      return new GatewayError(GatewayErrorCode.GATEWAY_TIMEOUT, 'Microsoft Entra ID did not answer the token exchange in time.');
    }
    // A 5xx, MSAL refusing for the Retry-After of an earlier one, or no connection.
    const code = error instanceof AuthError ? error.errorCode : 'unknown';
    this.#logger.warn({ oid: caller.oid, tid: caller.tid, entraError: code }, 'sign-in: the token exchange failed');
    return new GatewayError(GatewayErrorCode.UPSTREAM_UNAVAILABLE, 'Microsoft Entra ID could not exchange the token; retry later.');
  }
}
