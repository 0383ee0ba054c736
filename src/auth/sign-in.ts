import type { Logger } from 'pino';
import type { AuthConfig } from '../config/config.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { authenticator, type Authenticate } from './caller-authentication.js';
import { entraHttpClient } from './entra-http.js';
import { OnBehalfOfExchange, type SharedTokenCache } from './token-exchange.js';

/** Sign-in as the gateway runs it with `AUTH_MODE=obo`. */
export interface SignIn {
  verifier: AccessTokenVerifier;
  exchange: OnBehalfOfExchange;
  /**
   * The caller of an `Authorization` header, or a `SignInRefusal`: the one check of a token, for
   * the server's checks before GraphQL (uploads) and before an operation that calls Graph runs.
   */
  authenticate: Authenticate;
  stop(): void;
}

/**
 * The token check and the on-behalf-of exchange for `settings`, discovery started in the
 * background. `sharedCache` (with `REDIS_URL`) shares exchanged tokens between replicas.
 */
export function startSignIn(settings: Extract<AuthConfig, { mode: 'obo' }>, logger: Logger, sharedCache?: SharedTokenCache): SignIn {
  const http = entraHttpClient(settings.timeoutMs);
  const verifier = new AccessTokenVerifier(settings, http, logger);
  verifier.start();
  const exchange = new OnBehalfOfExchange(settings, http, logger, sharedCache);
  const authenticate = authenticator(verifier, settings.requiredScope);
  return { verifier, exchange, authenticate, stop: () => verifier.stop() };
}
