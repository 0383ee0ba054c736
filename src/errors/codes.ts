/**
 * The stable `extensions.code` values this gateway answers with. Frontends branch on these,
 * so a value is never renamed or reused for another meaning.
 */
export enum GatewayErrorCode {
  /** No bearer token was sent, or Graph answered 401. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** Graph answered 403; or, with trusted documents on, the document is not in the manifest (HTTP 403). */
  FORBIDDEN = 'FORBIDDEN',
  /** Graph answered 404 (for the mutation; the `contactPhoto` query answers `null`). */
  NOT_FOUND = 'NOT_FOUND',
  /**
   * Local validation failed (no upstream call was made; for an upload, the file is not an image
   * the gateway reads), or Graph answered 400 or 422.
   */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /** The uploaded file is over `PHOTO_MAX_UPLOAD_BYTES` (HTTP 413, nothing sent to Graph), or Graph answered 413. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** Graph answered 409. */
  CONFLICT = 'CONFLICT',
  /** Graph answered 412. */
  PRECONDITION_FAILED = 'PRECONDITION_FAILED',
  /** Graph still answered 429 after the retries; `extensions.retryAfter` says when to try again. */
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
  /** Graph answered 503, or the connection was refused or reset, after the retries. */
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  /** An attempt or the whole call timed out, or Graph answered 504, after the retries. */
  GATEWAY_TIMEOUT = 'GATEWAY_TIMEOUT',
  /** Graph answered 500, a redirect or another unexpected status, or a body that is not a photo (or not an image). */
  BAD_GATEWAY = 'BAD_GATEWAY',
  /** The HTTP request itself is unusable (Apollo's code of the same name), e.g. two `Authorization` headers. */
  BAD_REQUEST = 'BAD_REQUEST',
  /** The gateway is shutting down: the request was refused, or its Graph call was ended at the grace deadline. */
  SHUTTING_DOWN = 'SHUTTING_DOWN',
  /**
   * The caller went away before its answer (logged and counted, never received): an upload's
   * image work stopped and nothing was sent to Graph. nginx's 499 "Client Closed Request".
   */
  CLIENT_CLOSED_REQUEST = 'CLIENT_CLOSED_REQUEST',
  /** A bug in the gateway. The details are logged, never answered. */
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** Thrown by exhaustive switches when a value the types rule out turns up at run time. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
