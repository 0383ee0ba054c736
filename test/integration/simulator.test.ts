import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { gate } from '../support/gate.js';
import { waitFor } from '../support/process.js';

let simulator: GraphSimulator;
let baseUrl: string;
beforeAll(async () => {
  simulator = new GraphSimulator({ mailboxConcurrency: 4, mailboxRetryAfterS: 1 });
  baseUrl = await simulator.listen();
});
afterAll(() => simulator.close());
beforeEach(() => simulator.reset());

const photoUrl = (invitationId: string, contactId: string) =>
  `${baseUrl}/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`;

function patch(url: string, body: unknown, token = 'sim-token', headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('the Graph simulator', () => {
  it('answers 401 InvalidAuthenticationToken without a bearer token', async () => {
    const response = await fetch(photoUrl('i', 'c'));
    const body = (await response.json()) as { error: { code: string; innerError: Record<string, string> } };
    expect(response.status).toBe(401);
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.innerError['request-id']).toBe(response.headers.get('request-id'));
  });

  it('stores photos per token, invitation and contact', async () => {
    await patch(photoUrl('i', 'c'), { '@odata.type': '#microsoft.graph.profilePhoto', height: 48, width: 48 }, 'alice');
    const alice = await fetch(photoUrl('i', 'c'), { headers: { authorization: 'Bearer alice' } });
    const bob = await fetch(photoUrl('i', 'c'), { headers: { authorization: 'Bearer bob' } });
    const otherContact = await fetch(photoUrl('i', 'c2'), { headers: { authorization: 'Bearer alice' } });

    expect(await alice.json()).toMatchObject({ id: '48X48', height: 48, width: 48, '@odata.mediaContentType': 'image/jpeg' });
    expect(bob.status).toBe(404);
    expect(((await bob.json()) as { error: { code: string } }).error.code).toBe('ImageNotFound');
    expect(otherContact.status).toBe(404);
  });

  it('echoes client-request-id and always sends its own request-id', async () => {
    const response = await patch(photoUrl('i', 'c'), { height: 1 }, 'sim-token', { 'client-request-id': 'abc-123' });
    expect(response.headers.get('client-request-id')).toBe('abc-123');
    expect(response.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['a read-only id', { id: 'x' }],
    ['a height that is not an Int32', { height: 2 ** 31 }],
    ['a width that is a string', { width: '5' }],
    ['another @odata.type', { '@odata.type': '#microsoft.graph.user' }],
  ])('answers 400 to a PATCH with %s', async (_case, body) => {
    const response = await patch(photoUrl('i', 'c'), body);
    expect(response.status).toBe(400);
  });

  it('decodes each id from its own segment and refuses other paths', async () => {
    await patch(photoUrl('a/b', 'c?d#e'), { height: 2, width: 2 });
    const unknownPath = await fetch(`${baseUrl}/invitations/a/b/invitedUser/contacts/c/photo`, {
      headers: { authorization: 'Bearer sim-token' },
    });
    expect(simulator.requests[0]).toMatchObject({ invitationId: 'a/b', contactId: 'c?d#e' });
    expect(unknownPath.status).toBe(400);
  });

  it("enforces Outlook's limit of 4 concurrent requests per mailbox with 429 and Retry-After", async () => {
    // The first four are held in flight until all six have arrived.
    const held = gate();
    simulator.fail({ holdUntil: held.closed, times: 4 });
    const sent = Array.from({ length: 6 }, (_, index) => patch(photoUrl('busy-mailbox', `c${index}`), { height: index }));
    await waitFor(() => simulator.requests.length === 6);
    held.open();
    const answers = await Promise.all(sent);
    const otherMailbox = await patch(photoUrl('quiet-mailbox', 'c'), { height: 1 });

    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers.find((answer) => answer.status === 429)!.headers.get('retry-after')).toBe('1');
    expect(otherMailbox.status).toBe(200);
    expect(simulator.throttledCount).toBe(2);
  });

  it('answers a fault that sets only a message with an error, and one that sets only a delay normally', async () => {
    simulator.fail({ message: 'Only a message.' }).fail({ delayMs: 10 });
    const first = await patch(photoUrl('i', 'c'), { height: 1 });
    const second = await patch(photoUrl('i', 'c'), { height: 1 });
    expect([first.status, ((await first.json()) as { error: { message: string } }).error.message]).toEqual([500, 'Only a message.']);
    expect(second.status).toBe(200);
  });

  it('answers faults in order, each for its number of requests', async () => {
    simulator.fail({ status: 503, times: 2 }).fail({ status: 409 });
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await patch(photoUrl('i', 'c'), { height: 1 })).status);
    expect(statuses).toEqual([503, 503, 409, 200]);
  });
});

describe("the Graph simulator's photo/$value", () => {
  const valueUrl = (contactId: string) => `${photoUrl('i', contactId)}/$value`;
  const put = (url: string, body: Buffer, contentType = 'image/jpeg', token = 'sim-token') =>
    fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });

  it('keeps the picture per token, serves it back as image/jpeg with an ETag, and its pixel size becomes the metadata', async () => {
    const jpeg = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#123456' } }).jpeg().toBuffer();
    const before = await fetch(valueUrl('pictured'), { headers: { authorization: 'Bearer sim-token' } });

    const stored = await put(valueUrl('pictured'), jpeg);
    const value = await fetch(valueUrl('pictured'), { headers: { authorization: 'Bearer sim-token' } });
    const otherToken = await fetch(valueUrl('pictured'), { headers: { authorization: 'Bearer someone-else' } });
    const metadata = await fetch(photoUrl('i', 'pictured'), { headers: { authorization: 'Bearer sim-token' } });

    expect(before.status).toBe(404);
    expect([stored.status, await stored.text()]).toEqual([200, '']);
    expect(value.headers.get('content-type')).toBe('image/jpeg');
    expect(value.headers.get('etag')).toMatch(/^".+"$/);
    expect(Buffer.from(await value.arrayBuffer()).equals(jpeg)).toBe(true);
    expect(otherToken.status).toBe(404);
    expect(await metadata.json()).toMatchObject({ id: '120X90', width: 120, height: 90 });
  });

  it('takes PATCH like PUT', async () => {
    const jpeg = await sharp({ create: { width: 10, height: 20, channels: 3, background: '#000' } }).jpeg().toBuffer();

    const response = await fetch(valueUrl('patched'), { method: 'PATCH', headers: { authorization: 'Bearer sim-token', 'content-type': 'image/jpeg' }, body: jpeg });

    expect(response.status).toBe(200);
    expect(simulator.storedImage('sim-token', 'i', 'patched')?.equals(jpeg)).toBe(true);
  });

  it.each([
    ['a PNG declared as PNG', async () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer(), 'image/png', 415],
    ['a PNG declared as JPEG', async () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer(), 'image/jpeg', 400],
    ['text declared as JPEG', async () => Buffer.from('not a picture'), 'image/jpeg', 400],
    ['an empty body', async () => Buffer.alloc(0), 'image/jpeg', 400],
    ['more than 4 MB', async () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(4 * 1024 * 1024)]), 'image/jpeg', 413],
  ])('refuses %s as Graph does', async (_case, make, contentType, status) => {
    const response = await put(valueUrl('refused'), await make(), contentType);

    expect(response.status).toBe(status);
    expect(simulator.storedImage('sim-token', 'i', 'refused')).toBeUndefined();
  });
});
