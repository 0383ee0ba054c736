import { GraphQLError } from 'graphql';
import { GatewayErrorCode } from './codes.js';

/** What Graph said about a failed call, as answered in `extensions.upstream`. */
export interface UpstreamErrorInfo {
  /** Graph's HTTP status. */
  status: number;
  /** Graph's error code (`error.code` of its OData error body), when it sent one. */
  code: string | null;
  /** Graph's error message (`error.message`), when it sent one. */
  message: string | null;
  /** Graph's `request-id`, for Microsoft support. */
  requestId: string | null;
  /** The `client-request-id` the gateway sent, as Graph echoed it. */
  clientRequestId: string | null;
  /** When Graph answered (`innerError.date` or the `Date` header). */
  date: string | null;
}

/**
 * A short summary of a lower-level failure (a socket error, a timeout). It deliberately keeps
 * only name, code and message: got's error objects carry the request headers, and so the
 * bearer token, which must never reach a log or a response.
 */
export interface FailureCause {
  name: string;
  code: string | undefined;
  message: string;
}

const BEARER_TOKEN = /(Bearer\s+)[^\s"',;]+/gi;

/** Replaces every `Bearer <token>` in a text, should a message ever quote a header. */
export function redactTokens(text: string): string {
  return text.replace(BEARER_TOKEN, '$1[redacted]');
}

/**
 * Copies what may be shown of a thrown value: never the got error itself, which holds the
 * token, and with any `Bearer <token>` in the message redacted.
 */
export function failureCause(error: unknown): FailureCause {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, code: typeof code === 'string' ? code : undefined, message: redactTokens(error.message) };
  }
  return { name: 'Error', code: undefined, message: redactTokens(String(error)) };
}

export interface GatewayErrorOptions {
  upstream?: UpstreamErrorInfo;
  /** Seconds the caller should wait before trying again (429 and 503). */
  retryAfter?: number;
  /** The argument that failed local validation. */
  argument?: string;
  /** Why sign-in failed, as Microsoft Entra ID said it (`invalid_grant`, `consent_required`, ...). */
  reason?: string;
  /** A claims challenge from Microsoft Entra ID, for the frontend to pass to MSAL when it asks again. */
  claims?: string;
  /**
   * The HTTP status (and headers) of the whole answer, for an error about the caller rather than
   * one field (a sign-in the caller must renew: 401 with `WWW-Authenticate`). Apollo takes it
   * out of the answer's `extensions` and sets them on the response (`extensions.http`).
   */
  http?: { status: number; headers?: Record<string, string> };
  cause?: FailureCause;
}

/** The message each code answers with when Graph gave none of its own. */
const DEFAULT_MESSAGES: Record<GatewayErrorCode, string> = {
  [GatewayErrorCode.UNAUTHENTICATED]: 'Microsoft Graph did not accept the bearer token.',
  [GatewayErrorCode.FORBIDDEN]: 'Microsoft Graph denied access to this contact photo.',
  [GatewayErrorCode.NOT_FOUND]: 'Microsoft Graph found no such contact photo.',
  [GatewayErrorCode.BAD_USER_INPUT]: 'Microsoft Graph rejected the request as invalid.',
  [GatewayErrorCode.PAYLOAD_TOO_LARGE]: 'Microsoft Graph refused the photo as too large.',
  [GatewayErrorCode.CONFLICT]: 'Microsoft Graph reported a conflicting change.',
  [GatewayErrorCode.PRECONDITION_FAILED]: 'Microsoft Graph reported a failed precondition.',
  [GatewayErrorCode.TOO_MANY_REQUESTS]: 'Microsoft Graph is throttling requests; retry later.',
  [GatewayErrorCode.UPSTREAM_UNAVAILABLE]: 'Microsoft Graph is unavailable; retry later.',
  [GatewayErrorCode.GATEWAY_TIMEOUT]: 'Microsoft Graph did not answer in time.',
  [GatewayErrorCode.BAD_GATEWAY]: 'Microsoft Graph gave an answer the gateway cannot use.',
  [GatewayErrorCode.BAD_REQUEST]: 'The HTTP request is malformed.',
  [GatewayErrorCode.SHUTTING_DOWN]: 'The gateway is shutting down; retry the request.',
  [GatewayErrorCode.CLIENT_CLOSED_REQUEST]: 'The caller went away before the answer; the work was stopped.',
  [GatewayErrorCode.INTERNAL_SERVER_ERROR]: 'Internal server error.',
};

export function defaultMessage(code: GatewayErrorCode): string {
  return DEFAULT_MESSAGES[code];
}

/**
 * Every error this gateway answers on purpose. It is a `GraphQLError`, so Apollo passes its
 * message and `extensions` to the caller as they are; anything else thrown in a resolver is a
 * bug and is masked (see `server/apollo/error-formatting.ts`).
 */
export class GatewayError extends GraphQLError {
  readonly code: GatewayErrorCode;
  /** Why no answer came from Graph, for the log; never answered to the caller. */
  readonly failure: FailureCause | undefined;

  constructor(code: GatewayErrorCode, message: string | null | undefined, options: GatewayErrorOptions = {}) {
    const extensions: Record<string, unknown> = { code };
    if (options.argument !== undefined) extensions['argument'] = options.argument;
    if (options.retryAfter !== undefined) extensions['retryAfter'] = options.retryAfter;
    if (options.upstream !== undefined) extensions['upstream'] = options.upstream;
    if (options.reason !== undefined) extensions['reason'] = options.reason;
    if (options.claims !== undefined) extensions['claims'] = options.claims;
    if (options.http !== undefined) extensions['http'] = { status: options.http.status, headers: new Map(Object.entries(options.http.headers ?? {})) };
    super(message || DEFAULT_MESSAGES[code], { extensions });
    this.name = 'GatewayError';
    this.code = code;
    this.failure = options.cause;
  }
}

/** Local validation failed: nothing was sent to Graph. */
export function badUserInput(argument: string, message: string): GatewayError {
  return new GatewayError(GatewayErrorCode.BAD_USER_INPUT, message, { argument });
}

/** The caller sent no usable bearer token: nothing was sent to Graph. */
export function missingToken(): GatewayError {
  return new GatewayError(
    GatewayErrorCode.UNAUTHENTICATED,
    'Send the Microsoft Graph access token as an `Authorization: Bearer <token>` header.',
  );
}

/** The caller closed its connection before the answer: the abort reason of an upload's work. */
export function callerLeft(): GatewayError {
  return new GatewayError(GatewayErrorCode.CLIENT_CLOSED_REQUEST, null);
}
