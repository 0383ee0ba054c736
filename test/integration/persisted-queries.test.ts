import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Automatic persisted queries are registered by anyone, without a token: every entry expires
 * (APQ_TTL_S) and a large document is not kept (APQ_MAX_BYTES). The same bounds hold in Redis
 * (test/redis/shared-limit.test.ts).
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { APQ_TTL_S: '1', APQ_MAX_BYTES: '200' } });
});
afterAll(() => stack.close());

async function persisted(query: string, withQuery: boolean): Promise<unknown> {
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const response = await fetch(stack.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(withQuery && { query }), extensions: { persistedQuery: { version: 1, sha256Hash } } }),
  });
  return response.json();
}

const NOT_FOUND = { errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] };

describe('automatic persisted queries', () => {
  it('forgets a registered document after APQ_TTL_S', async () => {
    const query = '{ ttl: __typename }';
    expect(await persisted(query, true)).toEqual({ data: { ttl: 'Query' } });
    expect(await persisted(query, false)).toEqual({ data: { ttl: 'Query' } });

    await new Promise((resolve) => setTimeout(resolve, 1200));

    expect(await persisted(query, false)).toMatchObject(NOT_FOUND);
  });

  it('runs a document over APQ_MAX_BYTES but does not keep it', async () => {
    const padded = `{ big: __typename ${' '.repeat(300)}}`;

    expect(await persisted(padded, true)).toEqual({ data: { big: 'Query' } });
    expect(await persisted(padded, false)).toMatchObject(NOT_FOUND);
  });
});
