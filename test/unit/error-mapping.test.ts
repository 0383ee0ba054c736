import { describe, expect, it } from '@jest/globals';
import { GatewayErrorCode } from '../../src/errors/codes.js';
import {
  codeForStatus,
  errorFromResponse,
  errorFromTransportFailure,
  upstreamInfo,
} from '../../src/graph/error-mapping.js';
import type { GraphResponse } from '../../src/graph/types.js';

function response(status: number, body: string, headers: Record<string, string> = {}): GraphResponse {
  return { status, body, headers };
}

describe('codeForStatus', () => {
  it.each([
    [400, GatewayErrorCode.BAD_USER_INPUT],
    [401, GatewayErrorCode.UNAUTHENTICATED],
    [403, GatewayErrorCode.FORBIDDEN],
    [404, GatewayErrorCode.NOT_FOUND],
    [409, GatewayErrorCode.CONFLICT],
    [412, GatewayErrorCode.PRECONDITION_FAILED],
    [413, GatewayErrorCode.PAYLOAD_TOO_LARGE],
    [422, GatewayErrorCode.BAD_USER_INPUT],
    [429, GatewayErrorCode.TOO_MANY_REQUESTS],
    [500, GatewayErrorCode.BAD_GATEWAY],
    [501, GatewayErrorCode.BAD_GATEWAY],
    [502, GatewayErrorCode.BAD_GATEWAY],
    [503, GatewayErrorCode.UPSTREAM_UNAVAILABLE],
    [504, GatewayErrorCode.GATEWAY_TIMEOUT],
    [301, GatewayErrorCode.BAD_GATEWAY],
    [302, GatewayErrorCode.BAD_GATEWAY],
    [307, GatewayErrorCode.BAD_GATEWAY],
    [405, GatewayErrorCode.BAD_GATEWAY],
    [418, GatewayErrorCode.BAD_GATEWAY],
  ])('maps Graph status %i to %s', (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});

describe('upstreamInfo', () => {
  it("reads code, message and ids from Graph's OData error body", () => {
    const body = JSON.stringify({
      error: {
        code: 'ErrorItemNotFound',
        message: 'The specified object was not found in the store.',
        innerError: { date: '2026-11-26T10:00:00', 'request-id': 'req-1', 'client-request-id': 'client-1' },
      },
    });
    expect(upstreamInfo(response(404, body, { 'request-id': 'header-id' }))).toEqual({
      status: 404,
      code: 'ErrorItemNotFound',
      message: 'The specified object was not found in the store.',
      requestId: 'req-1',
      clientRequestId: 'client-1',
      date: '2026-11-26T10:00:00',
    });
  });

  it('reads the ids from `innererror`, the lower-case spelling some Graph services use', () => {
    const body = JSON.stringify({
      error: {
        code: 'generalException',
        message: 'General error.',
        innererror: { date: '2026-11-26T11:00:00', 'request-id': 'req-lower', 'client-request-id': 'client-lower' },
      },
    });
    expect(upstreamInfo(response(500, body, { 'request-id': 'header-id', date: 'Thu, 26 Nov 2026 10:00:00 GMT' }))).toMatchObject({
      requestId: 'req-lower',
      clientRequestId: 'client-lower',
      date: '2026-11-26T11:00:00',
    });
  });

  it('falls back to the headers and never copies an HTML body', () => {
    const info = upstreamInfo(
      response(502, '<html><body>secret proxy page</body></html>', {
        'request-id': 'r-2',
        'client-request-id': 'c-2',
        date: 'Thu, 26 Nov 2026 10:00:00 GMT',
      }),
    );
    expect(info).toEqual({
      status: 502,
      code: null,
      message: null,
      requestId: 'r-2',
      clientRequestId: 'c-2',
      date: 'Thu, 26 Nov 2026 10:00:00 GMT',
    });
    expect(JSON.stringify(info)).not.toContain('secret proxy page');
  });

  it('bounds the length of the strings it copies', () => {
    const info = upstreamInfo(response(400, JSON.stringify({ error: { code: 'x', message: 'm'.repeat(5000) } })));
    expect(info.message!.length).toBeLessThanOrEqual(1001);
  });
});

describe('errorFromResponse', () => {
  it("uses Graph's message and carries retryAfter when given", () => {
    const error = errorFromResponse(
      response(429, JSON.stringify({ error: { code: 'TooManyRequests', message: 'Slow down.' } })),
      2.5,
    );
    expect(error.message).toBe('Slow down.');
    expect(error.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfter: 2.5, upstream: { status: 429, code: 'TooManyRequests' } });
  });

  it('tells when to try again for 429 and 503 only', () => {
    expect(errorFromResponse(response(503, ''), 1.5).extensions['retryAfter']).toBe(1.5);
    expect(errorFromResponse(response(504, ''), 1.5).extensions).not.toHaveProperty('retryAfter');
    expect(errorFromResponse(response(500, ''), 1.5).extensions).not.toHaveProperty('retryAfter');
  });

  it('says a redirect was not followed', () => {
    const error = errorFromResponse(response(302, '', { location: 'http://elsewhere.test/' }));
    expect(error.extensions['code']).toBe('BAD_GATEWAY');
    expect(error.message).toMatch(/redirect \(302\)/);
  });

  it('answers a short sentence of its own for an empty body', () => {
    const error = errorFromResponse(response(503, ''));
    expect(error.message).toBe('Microsoft Graph is unavailable; retry later.');
  });
});

describe('errorFromTransportFailure', () => {
  it.each([
    [{ name: 'TimeoutError', code: 'ETIMEDOUT', message: 'Timeout awaiting request' }, 'GATEWAY_TIMEOUT'],
    [{ name: 'RequestError', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'UPSTREAM_UNAVAILABLE'],
    [{ name: 'ReadError', code: 'ECONNRESET', message: 'socket hang up' }, 'UPSTREAM_UNAVAILABLE'],
    [{ name: 'RequestError', code: 'HPE_INVALID_CONSTANT', message: 'Parse Error' }, 'BAD_GATEWAY'],
  ])('maps %o to %s', (cause, code) => {
    expect(errorFromTransportFailure(cause).extensions['code']).toBe(code);
  });
});
