import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONTACT_PHOTO, UPDATE_PHOTO, postGraphQL } from '../support/graphql.js';
import { sendRawRequest } from '../support/local-server.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Attacks that once got past the early checks, each reproduced over a real socket: an encoded
 * path, a lone surrogate in an id, a malformed Host, and schema hints in production.
 */

const TOKEN = 'hardening-token';

describe('the early checks go by the matched route', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('refuses a multipart request without the preflight header on /%67raphql from its headers, as on /graphql', async () => {
    const port = Number(new URL(stack.url).port);

    const answer = await Promise.race([
      sendRawRequest(port, ['POST /%67raphql HTTP/1.1', 'content-type: multipart/form-data; boundary=x', `authorization: Bearer ${TOKEN}`], '', 5_000_000),
      new Promise<'waited for the body'>((resolve) => setTimeout(() => resolve('waited for the body'), 5000).unref()),
    ]);

    expect(answer).toMatchObject({ status: 400, headers: { connection: 'close' } });
    expect((answer as { body: string }).body).toMatch(/Cross-Site Request Forgery/);
  });
});

describe('ids that are not well-formed UTF-16', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'abc\udc00'],
    ['a low surrogate before a high one', '\udc00\ud800'],
  ])('answer %s with BAD_USER_INPUT, no Graph call and nothing logged above info', async (_case, contactId) => {
    const linesBefore = stack.logs.lines.length;

    const result = await postGraphQL(stack.url, CONTACT_PHOTO, { invitationId: 'inv-utf16', contactId }, { token: TOKEN });

    expect(result.body.errors![0]).toMatchObject({
      message: 'contactId must be well-formed Unicode (it has half of a surrogate pair).',
      extensions: { code: 'BAD_USER_INPUT', argument: 'contactId' },
    });
    expect(stack.simulator.requests.filter((request) => request.url.includes('inv-utf16'))).toHaveLength(0);
    const levels = stack.logs.lines.slice(linesBefore).map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels.every((level) => level <= 30)).toBe(true);
  });

  it('still takes a well-formed pair (an emoji) as part of an id', async () => {
    const result = await postGraphQL(stack.url, CONTACT_PHOTO, { invitationId: 'inv-utf16', contactId: 'contact-\ud83d\ude00' }, { token: TOKEN });

    expect(result.body.errors).toBeUndefined();
    expect(stack.simulator.requests.at(-1)!.url).toContain(encodeURIComponent('contact-\ud83d\ude00'));
  });
});

describe('a malformed Host header', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('is a 400 with the gateway’s own error body, and no stack in the log', async () => {
    const port = Number(new URL(stack.url).port);
    const body = JSON.stringify({ query: '{ __typename }' });

    // sendRawRequest adds a good Host; this one goes first and Node takes the first.
    const answer = await sendRawRequest(port, ['POST /graphql HTTP/1.1', 'Host: a b', 'content-type: application/json'], body);

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: 'The Host header is not a valid host.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(stack.logs.lines.join('\n')).not.toMatch(/ERR_INVALID_URL|"stack"/);
  });

  it.each(['localhost:4000', '127.0.0.1', '[::1]:4000', 'gateway.example.com'])('lets %s through', async (host) => {
    const port = Number(new URL(stack.url).port);

    const answer = await sendRawRequest(port, ['POST /graphql HTTP/1.1', `Host: ${host}`, 'content-type: application/json'], JSON.stringify({ query: '{ __typename }' }));

    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { data: { __typename: 'Query' } }]);
  });
});

describe('production answers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => stack.close());

  it('name no input field the caller did not send ("Did you mean" is left out for variables too)', async () => {
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'i', contactId: 'c', input: { heigth: 10 } }, { token: TOKEN });

    expect(result.body.errors![0]!.message).toMatch(/"heigth" is not defined by type "ProfilePhotoInput"/);
    expect(result.body.errors![0]!.message).not.toMatch(/Did you mean|height/);
  });
});
