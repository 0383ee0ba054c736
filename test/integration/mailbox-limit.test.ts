import { afterEach, describe, expect, it } from '@jest/globals';
import { UPDATE_PHOTO, errorCode, postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { gate } from '../support/gate.js';
import { waitFor } from '../support/process.js';
import { startStack, type Stack } from '../support/stack.js';

// The simulator keeps Outlook's limit: 4 requests in flight per mailbox, 50 ms each, and a 429
// with Retry-After beyond it.
const OUTLOOK = { mailboxConcurrency: 4, latencyMs: 50, mailboxRetryAfterS: 1 };

let stack: Stack | undefined;
afterEach(() => stack?.close());

/** `count` concurrent updates to one mailbox, from one caller (or, with `callers`, each from a caller of its own). */
function updates(count: number, invitationId = 'busy-mailbox', callers: 'one' | 'many' = 'one'): Promise<GraphQLResult[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      postGraphQL(
        stack!.url,
        UPDATE_PHOTO,
        { invitationId, contactId: `contact-${i}`, input: { height: i + 1, width: i + 1 } },
        { token: callers === 'one' ? 'mailbox-token' : `mailbox-token-${i}` },
      ),
    ),
  );
}

describe('the per-mailbox limit', () => {
  it('sends 100 concurrent updates to one mailbox at most 4 at a time: all succeed and Graph answers no 429', async () => {
    // One caller may use three quarters of the queue (the rest is kept for others): 96 waiting need 128.
    stack = await startStack({ simulator: OUTLOOK, env: { GRAPH_MAILBOX_QUEUE: '128' } });

    const results = await updates(100);

    expect(results.filter((result) => result.body.errors === undefined)).toHaveLength(100);
    expect(stack.simulator.requests).toHaveLength(100);
    expect(stack.simulator.throttledCount).toBe(0);
  });

  it('is per mailbox: other mailboxes are not held back by a busy one', async () => {
    stack = await startStack({ simulator: OUTLOOK });
    // The busy mailbox's calls are held in flight at Graph until the others are done.
    const held = gate();
    stack.simulator.fail({ invitationId: 'busy-mailbox', holdUntil: held.closed, times: Infinity });
    const busy = updates(6);
    await waitFor(() => stack!.simulator.requests.length === 4);

    const others = await Promise.all(Array.from({ length: 8 }, (_, i) => updates(1, `other-${i}`)));

    // Four busy calls in flight and two waiting did not hold back eight calls to other mailboxes.
    expect(others.flat().every((result) => result.body.errors === undefined)).toBe(true);
    const mailboxes = stack.simulator.requests.map((request) => request.invitationId);
    expect(mailboxes.filter((mailbox) => mailbox === 'busy-mailbox')).toHaveLength(4);
    held.open();
    expect((await busy).every((result) => result.body.errors === undefined)).toBe(true);
    expect(stack.simulator.requests).toHaveLength(6 + 8);
    expect(stack.simulator.throttledCount).toBe(0);
  });

  it('fails calls past GRAPH_MAILBOX_QUEUE at once with TOO_MANY_REQUESTS and no Graph call', async () => {
    // Slow answers, so that all 30 calls arrive while the first 4 are still in flight.
    stack = await startStack({ simulator: { ...OUTLOOK, latencyMs: 1000 }, env: { GRAPH_MAILBOX_QUEUE: '6' } });

    // Thirty callers, one call each: the queue's own limit, not one caller's share of it.
    const results = await updates(30, 'busy-mailbox', 'many');

    const refused = results.filter((result) => errorCode(result) === 'TOO_MANY_REQUESTS');
    expect(refused).toHaveLength(30 - 4 - 6);
    expect(refused[0]!.body.errors![0]!.extensions).toMatchObject({ retryAfter: 1 });
    expect(stack.simulator.requests).toHaveLength(10);
  });

  it("pauses a mailbox for a 429's Retry-After, so the calls waiting for it do not hit the same wall", async () => {
    stack = await startStack({ simulator: { latencyMs: 20 }, env: { GRAPH_MAILBOX_CONCURRENCY: '1' } });
    stack.simulator.fail({ status: 429, retryAfter: '0.3', invitationId: 'busy-mailbox' });

    const results = await updates(5);

    expect(results.every((result) => result.body.errors === undefined)).toBe(true);
    // One 429, then the five updates: the others waited out the pause instead of being throttled too.
    const [throttled, next] = stack.simulator.requests;
    expect(stack.simulator.requests).toHaveLength(6);
    // The slot the 429 freed was not taken at once (that would be about 20 ms later): nothing
    // reached Graph for this mailbox until Retry-After had passed.
    expect(next!.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(280);
  });

  it('ends a call that waits for its mailbox past GRAPH_DEADLINE_MS with GATEWAY_TIMEOUT', async () => {
    // Graph never answers this mailbox: a call that got the one slot times out at the deadline
    // in its exchange; the calls behind it time out waiting, and never reach Graph.
    stack = await startStack({ env: { GRAPH_MAILBOX_CONCURRENCY: '1', GRAPH_DEADLINE_MS: '1000', GRAPH_MAX_RETRIES: '0' } });
    stack.simulator.fail({ hang: true, times: Infinity });

    const results = await updates(5);

    expect(results.map(errorCode)).toEqual(Array(5).fill('GATEWAY_TIMEOUT'));
    const messages = results.map((result) => result.body.errors![0]!.message);
    const waited = messages.filter((message) => /waited for a free slot/.test(message));
    const sent = messages.filter((message) => message === 'Microsoft Graph did not answer within the deadline.');
    expect(waited.length + sent.length).toBe(5);
    expect(waited.length).toBeGreaterThanOrEqual(1);
    // Only calls that got the slot were sent (one granted the slot in the deadline's last
    // millisecond may time out before its request reaches Graph).
    expect(stack.simulator.requests.length).toBeGreaterThanOrEqual(1);
    expect(stack.simulator.requests.length).toBeLessThanOrEqual(sent.length);
  });
});

describe('fairness between callers on one mailbox', () => {
  it('an attacker flooding a mailbox with one token does not keep another caller out, nor make it wait more than one turn', async () => {
    stack = await startStack();
    const held = gate();
    stack.simulator.fail({ invitationId: 'victim-mailbox', holdUntil: held.closed, times: Infinity });
    let refused = 0;
    const flood = Array.from({ length: 150 }, (_, i) =>
      postGraphQL(stack!.url, UPDATE_PHOTO, { invitationId: 'victim-mailbox', contactId: `flood-${i}`, input: { height: 1 } }, { token: 'made-up-token' }).then(
        (answer) => {
          if (errorCode(answer) === 'TOO_MANY_REQUESTS') refused++;
          return answer;
        },
      ),
    );
    // Every call of the flood has arrived: four in flight, three quarters of the queue (75)
    // waiting, and the rest told to come back.
    await waitFor(() => stack!.simulator.requests.length === 4 && refused === 150 - 4 - 75, 15_000);

    const victim = postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'victim-mailbox', contactId: 'victim-contact', input: { height: 2 } }, { token: 'victim-token' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.open();

    expect((await victim).body.errors).toBeUndefined();
    const order = stack.simulator.requests.map((request) => request.url);
    // Four of the flood were in flight; one more of theirs had its turn; then the victim's.
    expect(order.findIndex((url) => url.includes('victim-contact'))).toBeLessThanOrEqual(5);
    const answers = await Promise.all(flood);
    expect(answers.filter((answer) => answer.body.errors === undefined)).toHaveLength(4 + 75);
  });

  it('caps the pause after a 429 at GRAPH_MAX_RETRY_AFTER_S, whatever Retry-After says', async () => {
    stack = await startStack({ env: { GRAPH_MAX_RETRY_AFTER_S: '1', GRAPH_MAX_RETRIES: '1' } });
    stack.simulator.fail({ invitationId: 'paused-mailbox', status: 429, retryAfter: '86400' });

    const throttled = await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'paused-mailbox', contactId: 'c', input: { height: 1 } }, { token: 'one-caller' });
    expect(errorCode(throttled)).toBe('TOO_MANY_REQUESTS');
    expect(throttled.body.errors![0]!.extensions).toMatchObject({ retryAfter: 86400 });

    await new Promise((resolve) => setTimeout(resolve, 1200));
    const later = await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'paused-mailbox', contactId: 'c', input: { height: 1 } }, { token: 'another-caller' });

    expect(later.body.errors).toBeUndefined();
  });
});
