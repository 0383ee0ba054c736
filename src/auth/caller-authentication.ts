import { GatewayErrorCode } from '../errors/codes.js';
import { AccessTokenRefusal, type AccessTokenVerifier, type CallerIdentity } from './access-token-verifier.js';
import { SigningKeysUnavailableError } from './signing-keys.js';
import { SignInRefusal } from './sign-in-refusal.js';

/** Who the caller is, from its `Authorization` header (as received); throws `SignInRefusal`. */
export type Authenticate = (authorization: string | undefined) => Promise<CallerIdentity>;

/**
 * The one check of a caller's token, for every place that needs one before doing work for it:
 * an operation that calls Graph (the sign-in plugin), an upload before its body is read (upload
 * admission), the subgraph's schema (`_service`).
 */
export function authenticator(verifier: AccessTokenVerifier, requiredScope: string): Authenticate {
  return async (authorization) => {
    if (authorization === undefined) {
      throw new SignInRefusal(401, GatewayErrorCode.UNAUTHENTICATED, 'Send an access token for the gateway’s API as an `Authorization: Bearer <token>` header.', 'Bearer');
    }
    try {
      return await verifier.verify(authorization.replace(/^Bearer +/i, ''));
    } catch (error) {
      if (error instanceof SigningKeysUnavailableError) {
        // The token may be good: its key cannot be read (start-up, or the identity provider failing since).
        throw new SignInRefusal(503, GatewayErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway cannot check access tokens now; retry shortly.', undefined, error.retryAfterS);
      }
      if (!(error instanceof AccessTokenRefusal)) throw error;
      if (error.reason === 'insufficient_scope') {
        throw new SignInRefusal(403, GatewayErrorCode.FORBIDDEN, error.message, `Bearer error="insufficient_scope", scope="${requiredScope}"`);
      }
      throw new SignInRefusal(401, GatewayErrorCode.UNAUTHENTICATED, error.message, 'Bearer error="invalid_token"');
    }
  };
}
