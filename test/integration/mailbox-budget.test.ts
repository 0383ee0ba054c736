import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { noiseJpeg } from '../support/images.js';
import { UPDATE_PHOTO, errorCode, postGraphQL, type GraphQLResult } from '../support/graphql.js';
import { metric } from '../support/metrics.js';
import { startStack, type Stack } from '../support/stack.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';

// Outlook's request budget made small enough to reach in a test: 30 requests per 5-second window.
const BUDGET = { GRAPH_MAILBOX_REQUEST_BUDGET: '30', GRAPH_MAILBOX_REQUEST_WINDOW_S: '5' };

let stack: Stack | undefined;
afterEach(() => stack?.close());

function update(invitationId: string, i: number): Promise<GraphQLResult> {
  return postGraphQL(stack!.url, UPDATE_PHOTO, { invitationId, contactId: `contact-${i}`, input: { height: i + 1, width: i + 1 } }, { token: 'budget-token' });
}

/** `count` updates to one mailbox, one after another (so that the test knows which one was the 31st). */
async function updates(count: number, invitationId: string): Promise<GraphQLResult[]> {
  const results: GraphQLResult[] = [];
  for (let i = 0; i < count; i++) results.push(await update(invitationId, i));
  return results;
}

function retryAfterOf(result: GraphQLResult): number {
  return result.body.errors![0]!.extensions!['retryAfter'] as number;
}

const succeeded = (results: GraphQLResult[]) => results.filter((result) => result.body.errors === undefined).length;

describe("Outlook's request budget per mailbox", () => {
  it('answers the 31st request of a 30-per-5-s budget with TOO_MANY_REQUESTS and the seconds until the window allows it, unsent, and serves again once the window has moved on', async () => {
    stack = await startStack({ env: BUDGET });
    const started = Date.now();
    expect(succeeded(await updates(30, 'budget-mailbox'))).toBe(30);
    const sinceFirst = (Date.now() - started) / 1000;

    const refused = await update('budget-mailbox', 30);

    expect(errorCode(refused)).toBe('TOO_MANY_REQUESTS');
    // The first request leaves the window 5 s after it (and at most a bucket, 0.1 s, later).
    const retryAfter = retryAfterOf(refused);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, Math.floor(5 - sinceFirst)));
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(stack.simulator.requests).toHaveLength(30);
    // Other mailboxes keep their own budget.
    expect(errorCode(await update('other-mailbox', 0))).toBeUndefined();
    expect(await metric(stack.url, 'graph_mailbox_budget_refusals_total{budget="requests"}')).toBe(1);
    expect(await metric(stack.url, 'graph_mailbox_request_budget_left')).toBe(0);

    await sleep(retryAfter * 1000);
    expect(errorCode(await update('budget-mailbox', 31))).toBeUndefined();
  });

  it('counts each item of a batch as a request, and the batch itself as none', async () => {
    stack = await startStack({ env: BUDGET });
    const contactIds = Array.from({ length: 20 }, (_, i) => `contact-${i}`);
    const listed = await postGraphQL(
      stack.url,
      'query List($invitationId: ID!, $contactIds: [ID!]!) { contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { id } }',
      { invitationId: 'batched-mailbox', contactIds },
      { token: 'budget-token' },
    );
    expect(listed.body.errors).toBeUndefined();
    expect(stack.simulator.requests.filter((request) => request.batchId !== undefined)).toHaveLength(20);

    // 20 items and 10 updates are the 30 of the budget; the 11th update would pass it.
    expect(succeeded(await updates(10, 'batched-mailbox'))).toBe(10);
    expect(errorCode(await update('batched-mailbox', 10))).toBe('TOO_MANY_REQUESTS');
  });

  it('counts a retry again', async () => {
    stack = await startStack({ env: BUDGET });
    stack.simulator.fail({ status: 503, invitationId: 'retried-mailbox', times: 1 });

    // Two attempts for the first update (a 503, then its retry), then 28: the budget's 30.
    expect(succeeded(await updates(29, 'retried-mailbox'))).toBe(29);
    expect(errorCode(await update('retried-mailbox', 29))).toBe('TOO_MANY_REQUESTS');
    expect(stack.simulator.requests).toHaveLength(30);
  });
});

describe("Outlook's upload budget per mailbox", () => {
  it('counts the bytes of each picture sent and answers the upload that would pass the budget with TOO_MANY_REQUESTS, unsent', async () => {
    // The smallest budget taken: one picture at Graph's 4 MB cap.
    const budgetBytes = 4 * 1024 * 1024;
    stack = await startStack({ env: { GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES: String(budgetBytes), GRAPH_MAILBOX_UPLOAD_WINDOW_S: '300' } });
    const file = await noiseJpeg(648, 648, 100);
    const upload = (i: number) => postUpload(stack!.url, UPLOAD_PHOTO, { invitationId: 'upload-mailbox', contactId: `contact-${i}` }, file, { token: 'budget-token' });
    const sent = () => stack!.simulator.requests.filter((request) => request.method === 'PUT');

    expect((await upload(0)).body.errors).toBeUndefined();
    const pictureBytes = sent()[0]!.bytes.length;
    const fitting = Math.floor(budgetBytes / pictureBytes);
    for (let i = 1; i < fitting; i++) expect((await upload(i)).body.errors).toBeUndefined();
    expect(await metric(stack.url, 'graph_mailbox_upload_budget_left_bytes')).toBe(budgetBytes - fitting * pictureBytes);

    const refused = await upload(fitting);

    expect(errorCode(refused)).toBe('TOO_MANY_REQUESTS');
    expect(refused.body.errors![0]!.message).toContain('GRAPH_MAILBOX_UPLOAD_BUDGET_BYTES');
    expect(retryAfterOf(refused)).toBeGreaterThan(290);
    expect(retryAfterOf(refused)).toBeLessThanOrEqual(306);
    expect(sent()).toHaveLength(fitting);
    expect(await metric(stack.url, 'graph_mailbox_budget_refusals_total{budget="upload"}')).toBe(1);
  });
});
