import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import { UPDATE_PHOTO } from '../support/graphql.js';
import { sendRawRequest, type RawResponse } from '../support/local-server.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The catalogue of bad input: one row per case, with the exact HTTP status and code it is
 * answered with. Every row must also leave Graph untouched and the gateway serving. Where
 * Fastify, Node or Apollo answer a case themselves, the row records their answer (their
 * `code`, or none for Node's bare 431/408); GraphQL errors give `extensions.code`.
 */

interface Answer {
  status: number;
  code: string | null;
  message: string;
}

interface Row {
  case: string;
  send: () => Promise<Answer>;
  status: number;
  code: string | null;
  message: RegExp;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { HTTP_REQUEST_TIMEOUT_MS: '1000' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

const port = () => Number(new URL(stack.url).port);

function answerOf(status: number, text: string): Answer {
  let body: { errors?: Array<{ message: string; extensions?: { code?: string } }>; code?: string; message?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { status, code: null, message: text };
  }
  const error = body.errors?.[0];
  if (error) return { status, code: error.extensions?.code ?? null, message: error.message };
  return { status, code: body.code ?? null, message: body.message ?? '' };
}

async function fetchAnswer(init: RequestInit, url = stack.url): Promise<Answer> {
  const response = await fetch(url, init);
  return answerOf(response.status, await response.text());
}

/** A POST with a raw body and the given headers (JSON and a token unless overridden). */
function post(body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return fetchAnswer({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer catalogue-token', ...headers },
    body,
  });
}

function graphql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return post(JSON.stringify({ query, variables }), headers);
}

function rawAnswer(response: RawResponse): Answer {
  return answerOf(response.status, response.body);
}

const ids = { invitationId: 'inv-bad', contactId: 'contact-bad' };
const update = (input: Record<string, unknown>, overrides: Record<string, unknown> = {}) =>
  graphql(UPDATE_PHOTO, { ...ids, input, ...overrides });
const writeCall = (alias: string) => `${alias}: updateContactPhoto(invitationId: "i", contactId: "${alias}", input: { height: 1 }) { id }`;
/** A contacts screen's page of 100, as its query selects it. */
const CONTACTS_SCREEN_PAGE =
  'contacts(invitationId: "i", first: 100) { edges { cursor node { id displayName emailAddresses { address } photo { id dataUrl(size: 48) } } } pageInfo { hasNextPage endCursor } }';

const nestedInlineFragments = (levels: number) =>
  `${'... on ProfilePhoto { '.repeat(levels)}id${' }'.repeat(levels)}`;

/** The JSON body limit: 100 KiB. */
const BODY_LIMIT = 100 * 1024;

/** A valid `{ __typename }` request of exactly `bytes` bytes, padded in an unused variable. */
function bodyOfBytes(bytes: number): string {
  const empty = JSON.stringify({ query: '{ __typename }', variables: { padding: '' } });
  return JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(bytes - empty.length) } });
}

const rows: Row[] = [
  // HTTP: what Fastify, Node and Apollo answer before any GraphQL work.
  { case: 'malformed JSON body', send: () => post('{"query": "{ __typename }"'), status: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: /Body is not valid JSON/ },
  { case: 'an empty JSON body', send: () => post(''), status: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY', message: /Body cannot be empty/ },
  { case: 'a JSON body that is not an object', send: () => post('"{ __typename }"'), status: 400, code: 'BAD_REQUEST', message: /POST body/ },
  {
    case: 'a batch (array) of operations: batching is off',
    send: () => post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])),
    status: 400,
    code: 'BAD_REQUEST',
    message: /batching/i,
  },
  {
    case: 'an unknown Content-Type',
    send: () => post('<query/>', { 'content-type': 'application/xml' }),
    status: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    message: /^Unsupported Media Type$/,
  },
  {
    case: 'no Content-Type',
    send: () => fetchAnswer({ method: 'POST', body: new TextEncoder().encode('{"query":"{ __typename }"}') }),
    status: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    message: /^Unsupported Media Type$/,
  },
  {
    case: 'text/plain (a CSRF "simple request")',
    send: () => post('{"query":"{ __typename }"}', { 'content-type': 'text/plain' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /Cross-Site Request Forgery/,
  },
  {
    case: 'a GET carrying a mutation',
    send: () =>
      fetchAnswer(
        { headers: { 'apollo-require-preflight': 'true', authorization: 'Bearer t' } },
        `${stack.url}?query=${encodeURIComponent('mutation { updateContactPhoto(invitationId: "i", contactId: "c", input: {height: 1}) { id } }')}`,
      ),
    status: 405,
    code: 'BAD_REQUEST',
    message: /GET/,
  },
  {
    case: 'a POST body one byte over the 100 KiB limit',
    send: () => post(bodyOfBytes(BODY_LIMIT + 1)),
    status: 413,
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    message: /Request body is too large/,
  },
  {
    case: "a 1 MB query in a GET URL (over Node's 16 KiB header limit)",
    send: () => fetchAnswer({ headers: { 'apollo-require-preflight': 'true' } }, `${stack.url}?query=${'a'.repeat(1024 * 1024)}`),
    status: 431,
    code: null,
    message: /header size/,
  },
  {
    case: 'a client that sends its request slowly and never finishes (request timeout)',
    send: async () =>
      rawAnswer(await sendRawRequest(port(), ['POST /graphql HTTP/1.1', 'content-type: application/json'], '{"query":', 1000)),
    status: 408,
    code: null,
    message: /Client Timeout/,
  },

  // The caller's credentials.
  {
    case: 'no Authorization header',
    send: () =>
      fetchAnswer({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: UPDATE_PHOTO, variables: { ...ids, input: { height: 1 } } }),
      }),
    status: 200,
    code: 'UNAUTHENTICATED',
    message: /Authorization: Bearer <token>/,
  },
  { case: '"Bearer" with no token', send: () => graphql(UPDATE_PHOTO, { ...ids, input: { height: 1 } }, { authorization: 'Bearer ' }), status: 200, code: 'UNAUTHENTICATED', message: /Authorization: Bearer <token>/ },
  { case: 'a non-Bearer scheme', send: () => graphql(UPDATE_PHOTO, { ...ids, input: { height: 1 } }, { authorization: 'Basic dXNlcjpwYXNz' }), status: 200, code: 'UNAUTHENTICATED', message: /Authorization: Bearer <token>/ },
  {
    case: 'two Authorization headers',
    send: async () =>
      rawAnswer(
        await sendRawRequest(
          port(),
          ['POST /graphql HTTP/1.1', 'content-type: application/json', 'authorization: Bearer first', 'Authorization: Bearer second'],
          JSON.stringify({ query: UPDATE_PHOTO, variables: { ...ids, input: { height: 1 } } }),
        ),
      ),
    status: 400,
    code: 'BAD_REQUEST',
    message: /one Authorization header/,
  },

  // Documents: syntax and the operation limits.
  { case: 'a syntax error', send: () => graphql('mutation { updateContactPhoto('), status: 400, code: 'GRAPHQL_PARSE_FAILED', message: /Syntax Error: Expected Name/ },
  {
    case: 'a document under the body limit but over the token limit',
    send: () => graphql(`query Tokens(${Array.from({ length: 300 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`),
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /1000 tokens/,
  },
  {
    case: 'deeply nested fragments (depth limit)',
    send: () => graphql(`{ contactPhoto(invitationId: "i", contactId: "c") { ${nestedInlineFragments(8)} } }`),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /depth limit of 5/,
  },
  {
    // armor's cost grows by 1.5x per level of fragments, so at 12 levels the cost limit is hit before depth.
    case: 'deeply nested named fragment spreads (cost limit)',
    send: () =>
      graphql(
        `{ contactPhoto(invitationId: "i", contactId: "c") { ...F0 } } ` +
          Array.from({ length: 12 }, (_, i) => `fragment F${i} on ProfilePhoto { ${i < 11 ? `...F${i + 1}` : 'id'} }`).join(' '),
      ),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Query Cost limit of 8500/,
  },
  {
    case: 'cyclic fragment spreads',
    send: () => graphql('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Cannot spread fragment "A" within itself/,
  },
  {
    case: 'too many aliases',
    send: () => graphql(`{ contactPhoto(invitationId: "i", contactId: "c") { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ')} } }`),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Aliases limit of 15/,
  },
  {
    case: 'too many directives',
    send: () => graphql(`{ contactPhoto(invitationId: "i", contactId: "c") { ${Array.from({ length: 11 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Directives limit of 10/,
  },
  {
    // Two full pages of a contacts screen in one operation (armor multiplies a field's cost by a
    // `first` written in the document): one page is admitted (test/integration/contacts.test.ts).
    case: 'too costly',
    send: () => graphql(`{ ${['a', 'b'].map((alias) => `${alias}: ${CONTACTS_SCREEN_PAGE}`).join(' ')} }`),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Query Cost limit of 8500/,
  },
  {
    case: 'eleven Graph calls (aliases counted)',
    send: () => graphql(`mutation { ${Array.from({ length: 11 }, (_, i) => writeCall(`c${i}`)).join(' ')} }`),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /at most 10, this one makes 11/,
  },
  {
    case: 'eleven Graph calls spread through fragments',
    send: () =>
      graphql(
        `mutation { ...Six ... on Mutation { ...Five } } fragment Six on Mutation { ${Array.from({ length: 6 }, (_, i) => writeCall(`s${i}`)).join(' ')} } ` +
          `fragment Five on Mutation { ${Array.from({ length: 5 }, (_, i) => writeCall(`f${i}`)).join(' ')} }`,
      ),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /this one makes 11/,
  },
  { case: 'an unknown field', send: () => graphql('{ contactPhoto(invitationId: "i", contactId: "c") { url } }'), status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /Cannot query field "url"/ },
  { case: 'an unknown argument', send: () => graphql('{ contactPhoto(invitationId: "i", contactId: "c", size: 48) { id } }'), status: 400, code: 'GRAPHQL_VALIDATION_FAILED', message: /Unknown argument "size"/ },

  // Variables.
  { case: 'a variable of the wrong type', send: () => update({ height: 'tall' }), status: 400, code: 'BAD_USER_INPUT', message: /Int cannot represent/ },
  { case: 'an Int variable over 2^31-1', send: () => update({ height: 2 ** 31 }), status: 400, code: 'BAD_USER_INPUT', message: /non 32-bit signed integer/ },
  {
    case: 'an Int literal over 2^31-1',
    send: () => graphql('mutation { updateContactPhoto(invitationId: "i", contactId: "c", input: { width: 9999999999 }) { id } }'),
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /non 32-bit signed integer/,
  },
  { case: 'a missing required variable', send: () => graphql(UPDATE_PHOTO, { ...ids }), status: 400, code: 'BAD_USER_INPUT', message: /\$input/ },
  { case: 'a negative size', send: () => update({ width: -1 }), status: 200, code: 'BAD_USER_INPUT', message: /must not be negative/ },

  // Ids the gateway refuses (legal id characters are below: they reach Graph encoded).
  { case: 'an empty id', send: () => update({ height: 1 }, { invitationId: '' }), status: 200, code: 'BAD_USER_INPUT', message: /invitationId must not be empty/ },
  { case: 'a 1,025-character id', send: () => update({ height: 1 }, { contactId: 'c'.repeat(1025) }), status: 200, code: 'BAD_USER_INPUT', message: /at most 1024/ },
  { case: 'an id with a control character', send: () => update({ height: 1 }, { contactId: 'a\u0000b' }), status: 200, code: 'BAD_USER_INPUT', message: /control characters/ },
  { case: 'the id ".."', send: () => update({ height: 1 }, { invitationId: '..' }), status: 200, code: 'BAD_USER_INPUT', message: /must not be "\." or "\.\."/ },
];

describe('bad input is answered with a clear error, no upstream call, and no crash', () => {
  it.each(rows.map((row) => [row.case, row] as const))('%s', async (_case, row) => {
    const answer = await row.send();

    expect({ status: answer.status, code: answer.code }).toEqual({ status: row.status, code: row.code });
    expect(answer.message).toMatch(row.message);
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('leaves the gateway serving afterwards', async () => {
    const health = await fetch(`${new URL(stack.url).origin}/healthz`);
    const answer = await update({ height: 5, width: 5 });

    expect(health.status).toBe(200);
    expect(answer).toEqual({ status: 200, code: null, message: '' });
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('accepts a JSON body of exactly the 100 KiB limit', async () => {
    const body = bodyOfBytes(BODY_LIMIT);

    const answer = await post(body);

    expect(Buffer.byteLength(body)).toBe(BODY_LIMIT);
    expect(answer).toEqual({ status: 200, code: null, message: '' });
  });

  it('lets a legitimate operation with ten Graph calls and introspection through the limits', async () => {
    const ten = await graphql(`mutation { ${Array.from({ length: 10 }, (_, i) => writeCall(`c${i}`)).join(' ')} }`);
    const introspection = await graphql(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));

    expect(ten.status).toBe(200);
    expect(stack.simulator.requests).toHaveLength(10);
    expect(introspection).toEqual({ status: 200, code: null, message: '' });
  });
});

describe('ids with legal but special characters', () => {
  it.each([
    ['unicode', 'контакт-😀'],
    ['"/"', 'AAMk/AGI2=='],
    ['"%2F"', 'a%2Fb'],
    ['"?"', 'a?b=1'],
    ['"#"', 'a#b'],
    ['all of them with ".." inside', '../x?y#z%2F/'],
  ])('%s arrives at Graph percent-encoded inside its segment', async (_case, contactId) => {
    const answer = await update({ height: 7, width: 7 }, { contactId });

    expect(answer.code).toBeNull();
    const [received] = stack.simulator.requests;
    expect(received!.url).toBe(`/beta/invitations/${ids.invitationId}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`);
    expect(received!.contactId).toBe(contactId);
  });
});

describe('in production', () => {
  let production: Stack;
  beforeAll(async () => {
    production = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => production.close());

  const send = (query: string) => postTo(production.url, query);

  it.each([
    ['the token limit', `query T(${Array.from({ length: 300 }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`, 'Syntax Error: Too many tokens.'],
    ['the alias limit', `{ contactPhoto(invitationId: "i", contactId: "c") { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ')} } }`, 'Syntax Error: Too many aliases.'],
    ['the depth limit', `{ contactPhoto(invitationId: "i", contactId: "c") { ${nestedInlineFragments(8)} } }`, 'Syntax Error: Query too deep.'],
    ['the Graph-call limit', `mutation { ${Array.from({ length: 11 }, (_, i) => writeCall(`c${i}`)).join(' ')} }`, 'Too many Microsoft Graph calls in one operation.'],
  ])('names %s without its value', async (_case, query, message) => {
    const answer = await send(query);

    expect(answer).toEqual({ status: 400, code: expect.stringMatching(/^GRAPHQL_/), message });
    expect(production.simulator.requests).toHaveLength(0);
  });

  it('hides field suggestions', async () => {
    const answer = await send('{ contactFoto(invitationId: "i", contactId: "c") { id } }');

    expect(answer.message).toBe('Cannot query field "contactFoto" on type "Query".');
  });

  it('while in development they are shown', async () => {
    const answer = await graphql('{ contactFoto(invitationId: "i", contactId: "c") { id } }');

    expect(answer.message).toMatch(/Did you mean "contactPhoto"/);
  });
});

async function postTo(url: string, query: string): Promise<Answer> {
  return fetchAnswer({ method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer p' }, body: JSON.stringify({ query }) }, url);
}
