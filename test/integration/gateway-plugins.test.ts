import { afterEach, describe, expect, it } from '@jest/globals';
import { UPDATE_PHOTO } from '../support/graphql.js';
import { sendRawRequest, startRawRequest } from '../support/local-server.js';
import { waitFor } from '../support/process.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The gateway's Fastify plugins reach the routes they must (src/server/gateway.ts,
 * registerPlugins): the guards and the multipart parser every route, the 404 answer included,
 * draining every answer; and CORS runs before the guards. Each test fails if its plugin is
 * registered in a context of its own or out of order.
 */

const STUDIO = 'https://studio.apollographql.com';

describe("the gateway's plugins", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const port = (): number => Number(new URL(stack!.url).port);

  it('refuse a malformed Host on /healthz and on an unknown path, not only on /graphql', async () => {
    stack = await startStack();

    // sendRawRequest adds a good Host; this one goes first and Node takes the first.
    const answers = await Promise.all(['/healthz', '/no-such-route'].map((path) => sendRawRequest(port(), [`GET ${path} HTTP/1.1`, 'Host: a b'])));

    for (const answer of answers) {
      expect([answer.status, JSON.parse(answer.body).errors[0].message]).toEqual([400, 'The Host header is not a valid host.']);
    }
  });

  it("answer a guard's refusal with the CORS headers, so that a page of an allowed origin can read why", async () => {
    stack = await startStack();

    const answer = await sendRawRequest(port(), ['POST /graphql HTTP/1.1', `origin: ${STUDIO}`, 'authorization: Bearer a', 'authorization: Bearer b'], '{}');

    expect([answer.status, JSON.parse(answer.body).errors[0].message]).toEqual([400, 'Send at most one Authorization header.']);
    expect(answer.headers['access-control-allow-origin']).toBe(STUDIO);
  });

  it('close the connection of an answer still in flight when draining begins, so that keep-alive clients move on', async () => {
    stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '5000' } });
    stack.simulator.fail({ delayMs: 400 });
    const mutation = JSON.stringify({ query: UPDATE_PHOTO, variables: { invitationId: 'inv-p', contactId: 'contact-p', input: { height: 360, width: 360 } } });
    // Without Connection: close: on its own, the connection would be kept alive.
    const request = await startRawRequest(port(), 'POST', '/graphql', { 'content-type': 'application/json', authorization: 'Bearer t' }, mutation);
    const answered = request.finish();
    await waitFor(() => stack!.simulator.requests.length === 1);

    const stopped = stack.gateway.shutdown();
    const answer = await answered;
    await stopped;

    expect([answer.status, answer.headers['connection']]).toEqual([200, 'close']);
  });

  it('refuse a multipart body sent to another route as the GraphQL endpoint would, GraphQL-shaped', async () => {
    stack = await startStack();

    const answer = await sendRawRequest(port(), ['POST /no-such-route HTTP/1.1', 'content-type: multipart/form-data; boundary=x'], '--x--\r\n');

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ message: 'multipart/form-data is accepted on the GraphQL endpoint only.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });
});
