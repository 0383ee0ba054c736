import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The operations metric's label values under many different documents: 10,000 operations take
 * about 35 s, so this runs with the soak (`npm run test:soak`, in `.ci/run`), not in `npm test`.
 */
describe('the operations metric\'s label values', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('come from a fixed set: 10,000 operations varying their root fields add no series', async () => {
    const series = async () => (await (await fetch(`${new URL(stack.url).origin}/metrics`)).text()).split('\n').filter((line) => line.startsWith('graphql_operations_total{')).length;
    // One of each kind first, so that the series they need exist.
    for (const query of ['{ __typename }', '{ a: __typename contactPhoto(invitationId: "m", contactId: "c") { id } }']) {
      await postGraphQL(stack.url, query, {}, { token: 'metrics-token' });
    }
    const before = await series();

    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          const typenames = Array.from({ length: n % 7 }, (_, k) => `t${k}_${n % 13}: __typename`).join(' ');
          // Every tenth calls Graph; the rest vary only what the label once took from the document.
          const query = n % 10 !== 0 ? `{ ${typenames} __typename }` : `{ ${typenames} contactPhoto(invitationId: "m", contactId: "c") { id } x${n % 11}: __typename }`;
          return postGraphQL(stack.url, query, {}, { token: 'metrics-token' });
        }),
      );
    }

    expect(await series()).toBe(before);
    const text = await (await fetch(`${new URL(stack.url).origin}/metrics`)).text();
    const labels = new Set([...text.matchAll(/^graphql_operations_total\{root_field="([^"]*)"/gm)].map((match) => match[1]));
    expect([...labels].every((label) => ['none', 'multiple', 'contactPhoto', 'updateContactPhoto', 'uploadContactPhoto', '_entities'].includes(label!))).toBe(true);
  }, 60_000);
});

