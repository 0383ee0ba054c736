import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CONTACT_PHOTO, UPDATE_PHOTO, postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const CALLERS = 100;

it('gives each of 100 concurrent callers, with distinct tokens, its own answer', async () => {
  // Every caller updates the same invitation and contact: only the token tells them apart.
  const ids = { invitationId: 'shared-invitation', contactId: 'shared-contact' };
  const callers = Array.from({ length: CALLERS }, (_, index) => ({ token: `token-${index}`, size: 100 + index }));

  const updates = await Promise.all(
    callers.map(({ token, size }) =>
      postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: size, width: size + 1 } }, { token }),
    ),
  );
  updates.forEach((result, index) => {
    const size = callers[index]!.size;
    expect(result.body).toEqual({ data: { updateContactPhoto: { id: `${size + 1}X${size}`, height: size, width: size + 1 } } });
  });

  const reads = await Promise.all(callers.map(({ token }) => postGraphQL(stack.url, CONTACT_PHOTO, ids, { token })));
  reads.forEach((result, index) => {
    expect(result.body.data).toEqual({ contactPhoto: expect.objectContaining({ height: callers[index]!.size }) });
  });

  // Each request reached Graph with its caller's own token.
  const patches = stack.simulator.requests.filter((request) => request.method === 'PATCH');
  expect(patches).toHaveLength(CALLERS);
  for (const patch of patches) {
    const { height } = JSON.parse(patch.body) as { height: number };
    expect(patch.headers['authorization']).toBe(`Bearer token-${height - 100}`);
  }
});
