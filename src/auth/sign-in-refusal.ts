import type { GatewayErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';

// Apart from caller-authentication.ts, which loads jose: upload admission tells this error by its
// class whether sign-in is on or not.

/**
 * A caller sign-in refuses, as an HTTP answer with RFC 6750's `WWW-Authenticate`: 401 `Bearer`
 * without a token, 401 `Bearer error="invalid_token"` for a bad one, 403 `Bearer
 * error="insufficient_scope", scope="..."` for one without the scope, 503 with `Retry-After`
 * while the identity provider's keys cannot be read (the token may well be good).
 */
export class SignInRefusal extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly code: GatewayErrorCode,
    message: string,
    readonly challenge?: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'SignInRefusal';
  }

  /** The answer's headers beside the status. */
  get headers(): Record<string, string> {
    return {
      ...(this.challenge !== undefined && { 'www-authenticate': this.challenge }),
      ...(this.retryAfterS !== undefined && { 'retry-after': String(this.retryAfterS) }),
    };
  }

  /** The `extensions` of its error, beside the code. */
  get extensions(): Record<string, unknown> {
    return this.retryAfterS === undefined ? {} : { retryAfter: this.retryAfterS };
  }

  /** As Apollo answers it from a plugin: a `GatewayError` whose `extensions.http` carries the status and headers. */
  toGraphQLError(): GatewayError {
    return new GatewayError(this.code, this.message, { retryAfter: this.retryAfterS, http: { status: this.status, headers: this.headers } });
  }
}
