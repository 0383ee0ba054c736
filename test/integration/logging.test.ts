import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CONTACT_PHOTO, UPDATE_PHOTO, postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.very-secret-token-value.signature';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '1', GRAPH_TIMEOUT_MS: '200', LOG_LEVEL: 'trace' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.simulator.reset();
  stack.logs.lines.length = 0;
});

/** The code an operation's log line names for an answer: its first error's, or OK. */
function codeOfAnswer(answer: string): unknown {
  const body = JSON.parse(answer) as { errors?: Array<{ extensions?: { code?: string } }> };
  return body.errors?.[0]?.extensions?.code ?? 'OK';
}

const variables = { invitationId: 'inv-log', contactId: 'contact-log', input: { height: 64, width: 64 } };

describe('the operation log', () => {
  it('writes one JSON line per operation with name, root field, code, upstream status, attempts, latency and client-request-id', async () => {
    const clientRequestId = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
    stack.simulator.fail({ status: 503, retryAfter: '0' });

    await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: TOKEN, headers: { 'client-request-id': clientRequestId } });

    const lines = stack.logs.entries('graphql operation');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'contact-photo-gateway',
      reqId: expect.stringMatching(/^req-/),
      operationName: 'UpdateContactPhoto',
      rootField: 'updateContactPhoto',
      code: 'OK',
      upstreamStatus: 200,
      attempts: 2,
      latencyMs: expect.any(Number),
      clientRequestId,
    });
  });

  it('logs the error code of a failed operation, and anonymous for an unnamed one', async () => {
    stack.simulator.fail({ status: 403 });

    await postGraphQL(stack.url, 'query { contactPhoto(invitationId: "i", contactId: "c") { id } }', {}, { token: TOKEN });

    expect(stack.logs.entries('graphql operation')).toEqual([
      expect.objectContaining({ operationName: 'anonymous', rootField: 'contactPhoto', code: 'FORBIDDEN', upstreamStatus: 403, attempts: 1 }),
    ]);
  });


  it('logs the status of an answer cut off for its size', async () => {
    stack.simulator.fail({ status: 503, body: 'huge' });

    await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: TOKEN });

    expect(stack.logs.entries('graphql operation')).toEqual([
      expect.objectContaining({ code: 'BAD_GATEWAY', upstreamStatus: 503, attempts: 1 }),
    ]);
  });

  it('logs the status actually sent when Apollo replaces the answer after the operation (406 for an Accept it cannot answer)', async () => {
    const response = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/csv', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    await response.arrayBuffer();

    expect(response.status).toBe(406);
    expect(stack.logs.entries('graphql operation')).toEqual([expect.objectContaining({ httpStatus: 406, code: 'BAD_REQUEST' })]);
  });

  it('logs the status of every answer: 200, and 400 for a refused operation', async () => {
    await postGraphQL(stack.url, '{ __typename }', {}, { token: TOKEN });
    await postGraphQL(stack.url, '{ nope }', {}, { token: TOKEN });

    expect(stack.logs.entries('graphql operation').map((line) => [line['code'], line['httpStatus']])).toEqual([
      ['OK', 200],
      ['GRAPHQL_VALIDATION_FAILED', 400],
    ]);
  });

  it('logs why Graph gave no answer', async () => {
    stack.simulator.fail({ hang: true, times: 2 });

    await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: TOKEN });

    expect(stack.logs.entries('graphql operation')).toEqual([
      expect.objectContaining({
        code: 'GATEWAY_TIMEOUT',
        upstreamStatus: null,
        attempts: 2,
        cause: { name: 'TimeoutError', code: 'ETIMEDOUT', message: expect.stringContaining('200') },
      }),
    ]);
  });
});

describe('the bearer token', () => {
  it('appears in no log line and no answer, whatever happens upstream', async () => {
    const faults = [
      { status: 401 },
      { status: 500 },
      { status: 502, body: 'html' as const },
      { reset: 'before-headers' as const, times: 2 },
      { hang: true, times: 2 },
      { status: 302, redirectTo: 'http://127.0.0.1:1/' },
      { status: 200, body: 'not-json' as const },
    ];
    const answers: string[] = [];
    for (const fault of faults) {
      stack.simulator.fail(fault);
      const result = await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: TOKEN });
      answers.push(JSON.stringify(result.body));
    }
    answers.push(JSON.stringify((await postGraphQL(stack.url, CONTACT_PHOTO, variables, { token: TOKEN })).body));
    // A request error too, and one with a bad id.
    answers.push(JSON.stringify((await postGraphQL(stack.url, '{ nope }', {}, { token: TOKEN })).body));
    answers.push(JSON.stringify((await postGraphQL(stack.url, UPDATE_PHOTO, { ...variables, contactId: '..' }, { token: TOKEN })).body));

    // The lines searched are the ones that could carry it: one operation line per operation,
    // with the code its answer had, Graph's status where it answered, and the cause where it did not.
    const operations = stack.logs.entries('graphql operation');
    expect(operations.map((line) => line['code'])).toEqual(answers.map((answer) => codeOfAnswer(answer)));
    expect(operations.filter((line) => line['upstreamStatus'] !== null)).toHaveLength(6);
    expect(operations.filter((line) => line['cause'] !== undefined).length).toBeGreaterThanOrEqual(2);
    const secret = 'very-secret-token-value';
    expect(stack.logs.lines.join('\n')).not.toContain(secret);
    expect(answers.join('\n')).not.toContain(secret);
  });
});
