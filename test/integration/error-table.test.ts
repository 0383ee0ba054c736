import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Fault } from '../../src/simulator/graph/graph-simulator.js';
import { CONTACT_PHOTO, UPDATE_PHOTO, errorCode, postGraphQL } from '../support/graphql.js';
import { startRecordingServer } from '../support/local-server.js';
import { startStack, type Stack } from '../support/stack.js';

// Retries are off here so that each row shows the mapping of one answer; retries.test.ts covers them.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '0', GRAPH_TIMEOUT_MS: '300' } });
});
afterAll(() => stack.close());
// Each test has a mailbox of its own: a 429 pauses its mailbox, and the next test must not wait it out.
let mailboxes = 0;
let variables = { invitationId: 'inv-0', contactId: 'contact-1', input: { height: 96, width: 96 } };
beforeEach(() => {
  stack.simulator.reset();
  variables = { ...variables, invitationId: `inv-${++mailboxes}` };
});

function update() {
  return postGraphQL(stack.url, UPDATE_PHOTO, variables, {
    token: 'table-token',
    headers: { 'client-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e' },
  });
}

describe('a Graph error status', () => {
  it.each([
    [400, 'invalidRequest', 'BAD_USER_INPUT'],
    [401, 'InvalidAuthenticationToken', 'UNAUTHENTICATED'],
    [403, 'ErrorAccessDenied', 'FORBIDDEN'],
    [404, 'ErrorItemNotFound', 'NOT_FOUND'],
    [409, 'conflict', 'CONFLICT'],
    [412, 'ErrorIrresolvableConflict', 'PRECONDITION_FAILED'],
    [413, 'requestTooLarge', 'PAYLOAD_TOO_LARGE'],
    [422, 'unprocessableEntity', 'BAD_USER_INPUT'],
    [429, 'TooManyRequests', 'TOO_MANY_REQUESTS'],
    [500, 'generalException', 'BAD_GATEWAY'],
    [501, 'notImplemented', 'BAD_GATEWAY'],
    [502, 'badGateway', 'BAD_GATEWAY'],
    [503, 'serviceNotAvailable', 'UPSTREAM_UNAVAILABLE'],
    [504, 'gatewayTimeout', 'GATEWAY_TIMEOUT'],
    [418, 'teapot', 'BAD_GATEWAY'],
  ])('%i (%s) is answered as %s with Graph\'s details, HTTP 200 and data null', async (status, graphCode, code) => {
    stack.simulator.fail({ status, code: graphCode, message: `Graph says ${status}.` });

    const result = await update();

    expect(result.status).toBe(200);
    expect(result.body.data).toBeNull();
    expect(result.body.errors).toHaveLength(1);
    const [error] = result.body.errors!;
    expect(error!.message).toBe(`Graph says ${status}.`);
    expect(error!.path).toEqual(['updateContactPhoto']);
    expect(error!.extensions).toMatchObject({
      code,
      upstream: {
        status,
        code: graphCode,
        message: `Graph says ${status}.`,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        clientRequestId: '0f8fad5b-d9cb-469f-a165-70867728950e',
        date: expect.any(String),
      },
    });
    expect(error!.extensions).not.toHaveProperty('stacktrace');
  });

  it('429 carries retryAfter in seconds', async () => {
    stack.simulator.fail({ status: 429, retryAfter: '7' });

    const result = await update();

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfter: 7 });
  });

  it('404 on the contactPhoto query is null, not an error', async () => {
    stack.simulator.fail({ status: 404, code: 'ErrorItemNotFound' });

    const result = await postGraphQL(stack.url, CONTACT_PHOTO, { invitationId: 'i', contactId: 'c' }, { token: 't' });

    expect(result.body).toEqual({ data: { contactPhoto: null } });
  });
});

describe('an answer the gateway cannot use', () => {
  const rows: Array<[string, string, Fault, RegExp]> = [
    ['an HTML error page', 'BAD_GATEWAY', { status: 502, body: 'html' }, /status 502/],
    ['an HTML 503 from a proxy', 'UPSTREAM_UNAVAILABLE', { status: 503, body: 'html' }, /unavailable/],
    ['an empty 504', 'GATEWAY_TIMEOUT', { status: 504, body: 'empty' }, /did not answer in time/],
    ['a 200 with an empty body', 'BAD_GATEWAY', { status: 200, body: 'empty' }, /an empty body/],
    ['a 200 that is not JSON', 'BAD_GATEWAY', { status: 200, body: 'not-json' }, /not JSON/],
    ['a 200 photo without id', 'BAD_GATEWAY', { status: 200, body: 'no-id' }, /without an id/],
    ['a 200 photo with height "abc"', 'BAD_GATEWAY', { status: 200, body: 'bad-height' }, /32-bit integer/],
    ['a 200 JSON array', 'BAD_GATEWAY', { status: 200, body: { raw: '[1,2]', contentType: 'application/json' } }, /not an object/],
    ['a 301 redirect', 'BAD_GATEWAY', { status: 301, redirectTo: 'http://127.0.0.1:1/' }, /redirect \(301\)/],
    ['a connection reset before the answer', 'UPSTREAM_UNAVAILABLE', { reset: 'before-headers' }, /unavailable/],
    ['a connection reset mid-body', 'UPSTREAM_UNAVAILABLE', { reset: 'mid-body', status: 200 }, /unavailable/],
    ['no answer within GRAPH_TIMEOUT_MS', 'GATEWAY_TIMEOUT', { hang: true }, /did not answer in time/],
    ['a 200 that drips a byte at a time and never ends', 'GATEWAY_TIMEOUT', { drip: true }, /did not answer in time/],
    ['a 200 streaming 2 MiB without Content-Length', 'BAD_GATEWAY', { status: 200, body: 'huge' }, /larger than 1 MiB/],
    [
      'a 200 announcing 1.5 MiB in Content-Length',
      'BAD_GATEWAY',
      { status: 200, body: { raw: `"${'x'.repeat(1.5 * 1024 * 1024)}"`, contentType: 'application/json' } },
      /larger than 1 MiB/,
    ],
    ['an error status with a body over 1 MiB', 'BAD_GATEWAY', { status: 503, body: 'huge' }, /larger than 1 MiB/],
  ];

  it.each(rows)('%s is answered as %s', async (_case, code, fault, message) => {
    stack.simulator.fail(fault);

    const result = await update();

    expect(result.status).toBe(200);
    expect(result.body.data).toBeNull();
    expect(errorCode(result)).toBe(code);
    expect(result.body.errors![0]!.message).toMatch(message);
  });

  it('never copies an HTML body into the answer', async () => {
    stack.simulator.fail({ status: 502, body: 'html' });

    const result = await update();

    expect(JSON.stringify(result.body)).not.toMatch(/<html|upstream proxy error/);
    expect(result.body.errors![0]!.extensions!['upstream']).toMatchObject({ status: 502, code: null, message: null });
  });
});

describe('redirects', () => {
  it('are not followed when they loop back to the same URL', async () => {
    const photoUrl = `${stack.simulator.baseUrl}/invitations/${variables.invitationId}/invitedUser/contacts/contact-1/photo`;
    stack.simulator.fail({ status: 302, redirectTo: photoUrl, times: Infinity });

    const result = await update();

    expect(errorCode(result)).toBe('BAD_GATEWAY');
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('are not followed, so the token never reaches another host', async () => {
    const elsewhere = await startRecordingServer();
    try {
      stack.simulator.fail({ status: 302, redirectTo: `${elsewhere.url}/steal` });
      stack.simulator.fail({ status: 307, redirectTo: `${elsewhere.url}/steal` });

      const first = await update();
      const second = await update();

      expect([errorCode(first), errorCode(second)]).toEqual(['BAD_GATEWAY', 'BAD_GATEWAY']);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('an unreachable Graph', () => {
  it('is answered as UPSTREAM_UNAVAILABLE when the connection is refused', async () => {
    // Port 1 (tcpmux) has no listener here and no test binds it. A port freed by closing a server
    // could be taken meanwhile by a simulator of a test running in parallel (seen once in CI).
    const unreachable = await startStack({
      env: { GRAPH_BASE_URL: 'http://127.0.0.1:1/beta', GRAPH_MAX_RETRIES: '0' },
    });
    try {
      const result = await postGraphQL(unreachable.url, UPDATE_PHOTO, variables, { token: 't' });

      expect(result.body.data).toBeNull();
      expect(errorCode(result)).toBe('UPSTREAM_UNAVAILABLE');
      expect(result.body.errors![0]!.message).toMatch(/ECONNREFUSED/);
    } finally {
      await unreachable.close();
    }
  });
});
