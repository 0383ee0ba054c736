import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphClient } from '../../src/graph/graph-client.js';
import type { GraphProfilePhoto } from '../../src/graph/types.js';
import { CONTACT_PHOTO, UPDATE_PHOTO, errorCode, postGraphQL, sandboxHeaders } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

const variables = { invitationId: 'inv-s', contactId: 'contact-s', input: { height: 1, width: 1 } };

describe('the HTTP server', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  const origin = () => new URL(stack.url).origin;

  it('answers /healthz and /readyz with 200 while serving', async () => {
    const health = await fetch(`${origin()}/healthz`);
    const ready = await fetch(`${origin()}/readyz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('serves queries over GET when a CSRF-safe header is present', async () => {
    const query = encodeURIComponent('{ __typename }');
    const response = await fetch(`${stack.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a GET without a CSRF-safe header (CSRF prevention is on)', async () => {
    const response = await fetch(`${stack.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it('refuses a mutation over GET with 405 and makes no upstream call', async () => {
    stack.simulator.reset();
    const query = encodeURIComponent('mutation { updateContactPhoto(invitationId: "i", contactId: "c", input: {height: 1}) { id } }');
    const response = await fetch(`${stack.url}?query=${query}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: 'Bearer t' },
    });
    expect(response.status).toBe(405);
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('answers 413 to a body over 100 KiB, with no upstream call', async () => {
    stack.simulator.reset();
    const response = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      body: JSON.stringify({ query: UPDATE_PHOTO, variables: { ...variables, padding: 'x'.repeat(101 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('keeps Apollo status and code for request errors', async () => {
    const invalid = await postGraphQL(stack.url, '{ nope }');
    const badVariable = await postGraphQL(stack.url, UPDATE_PHOTO, { ...variables, input: { height: 2 ** 31 } }, { token: 't' });
    expect([invalid.status, errorCode(invalid)]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    expect([badVariable.status, errorCode(badVariable)]).toEqual([400, 'BAD_USER_INPUT']);
  });

  it('allows CORS from Apollo Studio and not from other origins', async () => {
    const preflight = (from: string) =>
      fetch(stack.url, {
        method: 'OPTIONS',
        headers: {
          origin: from,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    const studio = await preflight('https://studio.apollographql.com');
    const other = await preflight('https://evil.example');
    expect(studio.status).toBe(204);
    expect(studio.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const actual = await postGraphQL(stack.url, '{ __typename }', {}, { headers: { origin: 'https://studio.apollographql.com' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    expect(actual.headers.get('access-control-expose-headers')).toBe('client-request-id');
  });

  it('serves the Sandbox landing page pre-filled with the example mutation and an Authorization header', async () => {
    const response = await fetch(stack.url, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('EmbeddedSandbox(');
    expect(html).toContain('mutation UpdateContactPhoto');
    expect(html).toContain('Authorization');
    expect(html).toContain('invitation-1');
  });

  it('pre-fills the Sandbox with an Authorization header asking for a Microsoft Graph token, what passthrough forwards', async () => {
    const html = await (await fetch(stack.url, { headers: { accept: 'text/html' } })).text();

    expect(sandboxHeaders(html)).toEqual({ Authorization: 'Bearer <your Microsoft Graph access token>' });
  });
});

describe('in production', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => stack.close());

  it('turns introspection off but still answers __typename', async () => {
    const introspection = await postGraphQL(stack.url, '{ __schema { queryType { name } } }');
    const typename = await postGraphQL(stack.url, '{ __typename }');
    expect(errorCode(introspection)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(typename.body).toEqual({ data: { __typename: 'Query' } });
  });

  it("serves Apollo's production landing page instead of the Sandbox", async () => {
    const response = await fetch(stack.url, { headers: { accept: 'text/html' } });
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('Welcome to Apollo Server');
    // The page's configuration, as Apollo embeds it: the production page, with no footer.
    const encoded = /window\.landingPage = ("[^"]*");/.exec(html)?.[1];
    expect(JSON.parse(decodeURIComponent(JSON.parse(encoded ?? '""') as string))).toMatchObject({ isProd: true, footer: false });
    expect(html).not.toContain('mutation UpdateContactPhoto');
    expect(html).not.toContain('EmbeddedSandbox(');
  });
});

/** A Graph client with a bug, to show what callers see of unexpected errors. */
class BrokenGraphClient extends GraphClient {
  override async updateContactPhoto(): Promise<GraphProfilePhoto> {
    throw new TypeError('Cannot read properties of undefined (internal detail)');
  }
}

describe('error details', () => {
  const previousNodeEnv = process.env['NODE_ENV'];
  // Apollo includes stack traces by default outside production; the gateway must not.
  beforeAll(() => {
    process.env['NODE_ENV'] = 'development';
  });
  afterAll(() => {
    process.env['NODE_ENV'] = previousNodeEnv;
  });

  async function withStack(env: Record<string, string>, run: (stack: Stack) => Promise<void>) {
    const broken = new BrokenGraphClient({
      baseUrl: 'http://127.0.0.1:1',
      maxRetries: 0,
      maxRetryAfterS: 1,
      timeoutMs: 100,
      deadlineMs: 100,
      mailbox: { concurrency: 4, queueLimit: 100 },
      userAgent: 'test',
    });
    const stack = await startStack({ env: { NODE_ENV: 'development', ...env }, gateway: { graphClient: broken } });
    try {
      await run(stack);
    } finally {
      await stack.close();
    }
  }

  it('masks an unexpected error as INTERNAL_SERVER_ERROR, logs it, and shows no stack trace', async () => {
    await withStack({}, async (stack) => {
      const result = await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: 't' });
      // The broken client's query method still validates: a BAD_USER_INPUT has no stack trace either.
      const invalid = await postGraphQL(stack.url, CONTACT_PHOTO, { invitationId: 'i', contactId: '' }, { token: 't' });

      expect(result.body).toEqual({
        data: null,
        errors: [
          {
            message: 'Internal server error.',
            locations: [{ line: 2, column: 3 }],
            path: ['updateContactPhoto'],
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
        ],
      });
      expect(invalid.body.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'contactId' });
      const logged = stack.logs.entries('unexpected error while executing an operation');
      expect(logged).toHaveLength(1);
      expect(JSON.stringify(logged[0])).toContain('internal detail');
    });
  });

  it('shows stack traces only with GRAPHQL_DEBUG=true', async () => {
    await withStack({ GRAPHQL_DEBUG: 'true' }, async (stack) => {
      const result = await postGraphQL(stack.url, UPDATE_PHOTO, variables, { token: 't' });

      expect(result.body.errors![0]!.extensions!['stacktrace']).toEqual(expect.arrayContaining([expect.stringContaining('TypeError')]));
    });
  });
});
