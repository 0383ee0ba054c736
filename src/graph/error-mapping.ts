import { GatewayErrorCode, UnreachableCaseError } from '../errors/codes.js';
import {
  GatewayError,
  defaultMessage,
  type FailureCause,
  type UpstreamErrorInfo,
} from '../errors/gateway-error.js';
import type { GraphResponse } from './types.js';

/**
 * How each Graph status maps to the gateway's error codes. This is the one place that decides
 * it; the error table (README.md, docs/errors.md) and `test/unit/error-mapping.test.ts` mirror it.
 */
export function codeForStatus(status: number): GatewayErrorCode {
  switch (status) {
    case 400:
    case 422:
      return GatewayErrorCode.BAD_USER_INPUT;
    case 413:
      return GatewayErrorCode.PAYLOAD_TOO_LARGE;
    case 401:
      return GatewayErrorCode.UNAUTHENTICATED;
    case 403:
      return GatewayErrorCode.FORBIDDEN;
    case 404:
      return GatewayErrorCode.NOT_FOUND;
    case 409:
      return GatewayErrorCode.CONFLICT;
    case 412:
      return GatewayErrorCode.PRECONDITION_FAILED;
    case 429:
      return GatewayErrorCode.TOO_MANY_REQUESTS;
    case 503:
      return GatewayErrorCode.UPSTREAM_UNAVAILABLE;
    case 504:
      return GatewayErrorCode.GATEWAY_TIMEOUT;
    default:
      // 500, 501, 502, redirects (never followed) and anything else Graph should not answer.
      return GatewayErrorCode.BAD_GATEWAY;
  }
}

/** Longest Graph string copied into an answer; Graph's own are far shorter. */
const MAX_UPSTREAM_STRING = 1000;

function boundedString(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length > MAX_UPSTREAM_STRING ? `${value.slice(0, MAX_UPSTREAM_STRING)}…` : value;
}

function header(response: GraphResponse, name: string): string | null {
  const value = response.headers[name];
  return boundedString(Array.isArray(value) ? value[0] : value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Graph's OData error object (`{"error": {...}}`), or nothing when the body is not one. */
function odataError(body: string): Record<string, unknown> | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) && isObject(parsed['error']) ? parsed['error'] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What is known of a failed Graph answer: its OData error body where there is one, else its
 * headers. The raw body is never copied: an HTML page from a proxy gives status and headers only.
 */
export function upstreamInfo(response: GraphResponse): UpstreamErrorInfo {
  const error = odataError(response.body);
  // Graph spells it `innerError`; some of its services `innererror`.
  const innerValue = error?.['innerError'] ?? error?.['innererror'];
  const inner = isObject(innerValue) ? innerValue : undefined;
  return {
    status: response.status,
    code: boundedString(error?.['code']),
    message: boundedString(error?.['message']),
    requestId: boundedString(inner?.['request-id']) ?? header(response, 'request-id'),
    clientRequestId: boundedString(inner?.['client-request-id']) ?? header(response, 'client-request-id'),
    date: boundedString(inner?.['date']) ?? header(response, 'date'),
  };
}

/** The codes whose callers are told when to try again (`extensions.retryAfter`). */
const CODES_WITH_RETRY_AFTER: ReadonlySet<GatewayErrorCode> = new Set([
  GatewayErrorCode.TOO_MANY_REQUESTS,
  GatewayErrorCode.UPSTREAM_UNAVAILABLE,
]);

/**
 * The error for a Graph answer that is not a success. `retryAfter` (seconds) is the wait Graph
 * asked for, or the gateway's next backoff; it is answered for 429 and 503 only.
 */
export function errorFromResponse(response: GraphResponse, retryAfter?: number): GatewayError {
  const upstream = upstreamInfo(response);
  const code = codeForStatus(response.status);
  let message = upstream.message;
  if (response.status >= 300 && response.status < 400) {
    message = `Microsoft Graph answered with a redirect (${response.status}), which the gateway never follows.`;
  } else if (message === null && code === GatewayErrorCode.BAD_GATEWAY) {
    message = `Microsoft Graph answered with status ${response.status}.`;
  }
  return new GatewayError(code, message, {
    upstream,
    ...(retryAfter !== undefined && CODES_WITH_RETRY_AFTER.has(code) && { retryAfter }),
  });
}

/** The error for a 2xx answer whose body is not what Graph documents. */
export function errorFromUnusableBody(response: GraphResponse, problem: string): GatewayError {
  return new GatewayError(
    GatewayErrorCode.BAD_GATEWAY,
    `Microsoft Graph answered ${response.status} with ${problem}.`,
    { upstream: { ...upstreamInfo(response), code: null, message: null } },
  );
}

/** The error for an answer whose body passed `limitBytes`; the gateway stopped reading it there. */
export function errorFromOversizedBody(response: GraphResponse, limitBytes: number): GatewayError {
  const mib = 1024 * 1024;
  const limit = limitBytes % mib === 0 ? `${limitBytes / mib} MiB` : `${limitBytes} bytes`;
  return errorFromUnusableBody(response, `a body larger than ${limit}, which the gateway stopped reading`);
}

/** How a call that got no complete answer from Graph failed. */
export type TransportFailureKind = 'timeout' | 'connection' | 'protocol';

/** Sorts a got/socket error into a kind, from its code only. */
export function transportFailureKind(error: FailureCause): TransportFailureKind {
  if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT') return 'timeout';
  // llhttp's parse errors: the upstream sent something that is not HTTP.
  if (error.code?.startsWith('HPE_')) return 'protocol';
  return 'connection';
}

/** The error for a call that got no usable answer from Graph. */
export function errorFromTransportFailure(cause: FailureCause): GatewayError {
  const kind = transportFailureKind(cause);
  switch (kind) {
    case 'timeout':
      return new GatewayError(GatewayErrorCode.GATEWAY_TIMEOUT, null, { cause });
    case 'connection':
      return new GatewayError(
        GatewayErrorCode.UPSTREAM_UNAVAILABLE,
        `${defaultMessage(GatewayErrorCode.UPSTREAM_UNAVAILABLE)} (${cause.code ?? cause.name})`,
        { cause },
      );
    case 'protocol':
      return new GatewayError(GatewayErrorCode.BAD_GATEWAY, 'Microsoft Graph answered with malformed HTTP.', { cause });
    default:
      throw new UnreachableCaseError(kind);
  }
}
