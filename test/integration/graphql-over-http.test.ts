import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serverAudits } from 'graphql-http';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

// graphql-http's server audit of the GraphQL-over-HTTP spec: every MUST holds.
const audits = serverAudits({ url: () => stack.url, fetchFn: fetch }).filter((audit) => audit.name.startsWith('MUST'));

describe('GraphQL over HTTP', () => {
  it('has MUST audits to run', () => {
    expect(audits.length).toBeGreaterThan(10);
  });

  it.each(audits.map((audit) => [audit.name, audit] as const))('%s', async (_name, audit) => {
    const result = await audit.fn();
    if (result.status !== 'ok') throw new Error(`${audit.id} ${audit.name}: ${result.reason}`);
  });
});
