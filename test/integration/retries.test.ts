import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { UPDATE_PHOTO, errorCode, postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

const variables = { invitationId: 'inv-r', contactId: 'contact-r', input: { height: 120, width: 120 } };
let mailboxes = 0;

/** Each call on its own mailbox, so that a 429's pause of its mailbox cannot reach the next test. */
async function timedUpdate(stack: Stack) {
  const started = performance.now();
  const invitationId = `inv-r-${mailboxes++}`;
  const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...variables, invitationId }, { token: 'retry-token' });
  return { result, elapsedMs: performance.now() - started };
}

describe('retries', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { GRAPH_MAX_RETRIES: '2', GRAPH_MAX_RETRY_AFTER_S: '1', GRAPH_TIMEOUT_MS: '300', GRAPH_DEADLINE_MS: '10000' },
    });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('waits the Retry-After seconds of a 429, then succeeds', async () => {
    // 0.8 s is longer than the first backoff (500 ms +-20%): a gateway that backed off instead
    // of waiting what Graph asked for retries sooner.
    stack.simulator.fail({ status: 429, retryAfter: '0.8' });

    await timedUpdate(stack).then(({ result }) =>
      expect(result.body).toEqual({ data: { updateContactPhoto: { id: '120X120', height: 120, width: 120 } } }),
    );

    const [throttled, retried] = stack.simulator.requests;
    expect(stack.simulator.requests.map((request) => request.method)).toEqual(['PATCH', 'PATCH']);
    expect(retried!.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(800);
  });

  it('reads Retry-After as an HTTP-date', async () => {
    // HTTP-dates have whole seconds: this one is 9 to 10 s away, far above the 1 s cap (so it is
    // not waited for, however late in its second the test starts or however slow the machine).
    const inTenSeconds = new Date(Math.floor(Date.now() / 1000) * 1000 + 10_000).toUTCString();
    stack.simulator.fail({ status: 503, retryAfter: inTenSeconds });

    const { result } = await timedUpdate(stack);

    expect(errorCode(result)).toBe('UPSTREAM_UNAVAILABLE');
    const retryAfter = result.body.errors![0]!.extensions!['retryAfter'] as number;
    expect(retryAfter).toBeGreaterThan(8);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('backs off exponentially without Retry-After (500 ms +-20% first)', async () => {
    stack.simulator.fail({ status: 503 });

    const { result } = await timedUpdate(stack);

    expect(result.body.errors).toBeUndefined();
    expect(stack.simulator.requests).toHaveLength(2);
    const [failed, retried] = stack.simulator.requests;
    expect(retried!.receivedAt - failed!.receivedAt).toBeGreaterThanOrEqual(400);
  });

  it.each([
    ['a 504', { status: 504 }],
    ['a connection reset', { reset: 'before-headers' as const }],
    ['an attempt that times out', { hang: true }],
  ])('retries after %s', async (_case, fault) => {
    stack.simulator.fail({ ...fault, retryAfter: '0' });

    const { result } = await timedUpdate(stack);

    expect(result.body.errors).toBeUndefined();
    expect(stack.simulator.requests).toHaveLength(2);
  });

  it('gives up after GRAPH_MAX_RETRIES retries with the last error and its retryAfter', async () => {
    stack.simulator.fail({ status: 429, retryAfter: '0.05', times: 3, message: 'Still too many.' });

    const { result } = await timedUpdate(stack);

    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]).toMatchObject({
      message: 'Still too many.',
      extensions: { code: 'TOO_MANY_REQUESTS', retryAfter: 0.05, upstream: { status: 429 } },
    });
    expect(stack.simulator.requests).toHaveLength(3);
  });

  it('answers at once when Retry-After is above GRAPH_MAX_RETRY_AFTER_S', async () => {
    stack.simulator.fail({ status: 429, retryAfter: '30' });

    const { result, elapsedMs } = await timedUpdate(stack);

    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfter: 30 });
    expect(stack.simulator.requests).toHaveLength(1);
    // Waiting would take 30 s; answering takes milliseconds.
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('waits a Retry-After of exactly GRAPH_MAX_RETRY_AFTER_S (1 s), then succeeds', async () => {
    stack.simulator.fail({ status: 429, retryAfter: '1' });

    const { result } = await timedUpdate(stack);

    expect(result.body.errors).toBeUndefined();
    const [throttled, retried] = stack.simulator.requests;
    expect(stack.simulator.requests).toHaveLength(2);
    expect(retried!.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  it('falls back to backoff when Retry-After is garbage', async () => {
    stack.simulator.fail({ status: 429, retryAfter: 'soon-ish' });

    const { result } = await timedUpdate(stack);

    expect(result.body.errors).toBeUndefined();
    expect(stack.simulator.requests).toHaveLength(2);
  });

  it.each([
    [400, 'BAD_USER_INPUT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [412, 'PRECONDITION_FAILED'],
    [500, 'BAD_GATEWAY'],
    [501, 'BAD_GATEWAY'],
    [502, 'BAD_GATEWAY'],
  ])('does not retry a %i: it is answered at once as %s', async (status, code) => {
    stack.simulator.fail({ status, retryAfter: '0' });

    const { result } = await timedUpdate(stack);

    expect(errorCode(result)).toBe(code);
    expect(result.body.errors![0]!.extensions).toMatchObject({ upstream: { status } });
    expect(stack.simulator.requests).toHaveLength(1);
  });
});

describe('the deadline', () => {
  it('ends a call whose attempt outlives GRAPH_DEADLINE_MS with GATEWAY_TIMEOUT', async () => {
    const stack = await startStack({ env: { GRAPH_TIMEOUT_MS: '60000', GRAPH_DEADLINE_MS: '300' } });
    try {
      stack.simulator.fail({ hang: true });

      const { result, elapsedMs } = await timedUpdate(stack);

      expect(result.body.errors![0]).toMatchObject({
        message: 'Microsoft Graph did not answer within the deadline.',
        extensions: { code: 'GATEWAY_TIMEOUT' },
      });
      // Cut at the deadline, not at the attempt's 60 s timeout.
      expect(elapsedMs).toBeGreaterThanOrEqual(300);
      expect(elapsedMs).toBeLessThan(5000);
      expect(stack.simulator.requests).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });

  it('does not start a wait that would outlast it: the last error is answered at once', async () => {
    const stack = await startStack({ env: { GRAPH_DEADLINE_MS: '1000', GRAPH_MAX_RETRY_AFTER_S: '30' } });
    try {
      stack.simulator.fail({ status: 503, retryAfter: '5' });

      const { result, elapsedMs } = await timedUpdate(stack);

      expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfter: 5 });
      // Waiting would take 5 s.
      expect(elapsedMs).toBeLessThan(4000);
      expect(stack.simulator.requests).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });
});
