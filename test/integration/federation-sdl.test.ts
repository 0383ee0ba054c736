import { afterEach, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

/** Federation's `{ _service { sdl } }`: the subgraph's whole schema, kept from anonymous callers where introspection is off. */

const SDL = '{ _service { sdl } }';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const start = async (env: Record<string, string>) => (stack = await startStack({ env: { FEDERATION: 'true', ...env } }));

describe('_service { sdl } with FEDERATION=true', () => {
  it('answers 401 with a Bearer challenge and no schema in production when no token is sent', async () => {
    const { url } = await start({ NODE_ENV: 'production' });

    for (const query of [SDL, '{ ...S } fragment S on Query { _service { sdl } }', '{ a: __typename ... on Query { _service { sdl } } }']) {
      const result = await postGraphQL(url, query);

      expect(result.status).toBe(401);
      expect(result.headers.get('www-authenticate')).toBe('Bearer');
      expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(JSON.stringify(result.body)).not.toContain('ProfilePhoto');
    }
  });

  it('answers the schema in production to a caller with a bearer token', async () => {
    const { url } = await start({ NODE_ENV: 'production' });

    const result = await postGraphQL(url, SDL, {}, { token: 'router-token' });

    expect(result.status).toBe(200);
    expect((result.body.data!['_service'] as { sdl: string }).sdl).toContain('type ProfilePhoto');
  });

  it('answers the schema without a token in production with FEDERATION_SDL_PUBLIC=true (a router that cannot send one)', async () => {
    const { url } = await start({ NODE_ENV: 'production', FEDERATION_SDL_PUBLIC: 'true' });

    const result = await postGraphQL(url, SDL);

    expect(result.status).toBe(200);
    expect((result.body.data!['_service'] as { sdl: string }).sdl).toContain('type ProfilePhoto');
  });

  it('answers the schema without a token where introspection is on (outside production, by default)', async () => {
    const { url } = await start({});

    const result = await postGraphQL(url, SDL);

    expect(result.status).toBe(200);
  });

  it('leaves operations without _service alone in production', async () => {
    const { url } = await start({ NODE_ENV: 'production' });

    const result = await postGraphQL(url, '{ __typename }');

    expect([result.status, result.body.data]).toEqual([200, { __typename: 'Query' }]);
  });
});
