import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
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

  it("gives the picture's ETag as the metadata's @odata.mediaEtag, direct and in a batch, and a new one for a new picture", async () => {
    const picture = (background: string) => sharp({ create: { width: 12, height: 12, channels: 3, background } }).jpeg().toBuffer();
    const read = async () => {
      const value = await fetch(valueUrl('versioned'), { headers: { authorization: 'Bearer sim-token' } });
      const metadata = (await (await fetch(photoUrl('i', 'versioned'), { headers: { authorization: 'Bearer sim-token' } })).json()) as Record<string, unknown>;
      return [value.headers.get('etag'), metadata['@odata.mediaEtag']];
    };
    await put(valueUrl('versioned'), await picture('#102030'));
    const [firstValue, firstMetadata] = await read();
    await put(valueUrl('versioned'), await picture('#a0b0c0'));
    const [secondValue, secondMetadata] = await read();
    const batch = await fetch(`${baseUrl}/$batch`, {
      method: 'POST',
      headers: { authorization: 'Bearer sim-token', 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/invitations/i/invitedUser/contacts/versioned/photo/$value' }] }),
    });
    const item = ((await batch.json()) as { responses: Array<{ headers: Record<string, string> }> }).responses[0]!;

    expect(firstValue).toMatch(/^".+"$/);
    expect(firstMetadata).toBe(firstValue);
    expect(secondMetadata).toBe(secondValue);
    expect(secondValue).not.toBe(firstValue);
    expect(item.headers['Etag']).toBe(secondValue);
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

describe("the Graph simulator's JSON batching (POST /$batch)", () => {
  interface BatchAnswer {
    responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[];
  }
  const batchUrl = () => `${baseUrl}/$batch`;
  const path = (contactId: string, invitationId = 'i') => `/invitations/${invitationId}/invitedUser/contacts/${contactId}/photo`;
  const postBatch = (body: unknown, token: string | null = 'sim-token') =>
    fetch(batchUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
  const byId = (answer: BatchAnswer) => Object.fromEntries(answer.responses.map((response) => [response.id, response]));

  it('runs each item as the direct request it stands for, with the envelope’s token, and answers them by id', async () => {
    const jpeg = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#123456' } }).jpeg().toBuffer();
    const put = await postBatch({
      requests: [
        { id: 'put', method: 'PUT', url: `${path('pictured')}/$value`, headers: { 'Content-Type': 'image/jpeg' }, body: jpeg.toString('base64') },
        { id: 'patch', method: 'PATCH', url: path('patched'), headers: { 'content-type': 'application/json' }, body: { height: 7 } },
      ],
    });
    const read = await postBatch({
      requests: [
        { id: 'a', method: 'GET', url: path('pictured') },
        { id: 'b', method: 'GET', url: `${path('pictured')}/$value` },
        { id: 'c', method: 'GET', url: path('nobody') },
      ],
    });

    expect(put.status).toBe(200);
    expect(Object.fromEntries(((await put.json()) as BatchAnswer).responses.map((response) => [response.id, response.status]))).toEqual({ put: 200, patch: 200 });
    const items = byId((await read.json()) as BatchAnswer);
    expect(items['a']).toMatchObject({ status: 200, body: { id: '30X20', width: 30, height: 20 } });
    expect(items['b']!.headers['Content-Type']).toBe('image/jpeg');
    expect(Buffer.from(items['b']!.body as string, 'base64').equals(jpeg)).toBe(true);
    expect(items['c']).toMatchObject({ status: 404, body: { error: { code: 'ImageNotFound' } } });
    const direct = await fetch(`${baseUrl}${path('patched')}`, { headers: { authorization: 'Bearer sim-token' } });
    expect(await direct.json()).toMatchObject({ height: 7 });
    const recorded = simulator.requests.filter((request) => request.batchId !== undefined);
    expect(recorded).toHaveLength(5);
    expect(recorded.every((request) => request.headers.authorization === 'Bearer sim-token')).toBe(true);
    expect(simulator.httpRequestCount).toBe(3);
  });

  it('answers items in an order of its own, last finished first', async () => {
    const response = await postBatch({ requests: ['1', '2', '3'].map((id) => ({ id, method: 'GET', url: path(`c${id}`) })) });

    expect(((await response.json()) as BatchAnswer).responses.map((item) => item.id)).toEqual(['3', '2', '1']);
  });

  it.each([
    ['more than 20 requests', { requests: Array.from({ length: 21 }, (_, index) => ({ id: String(index), method: 'GET', url: path(`c${index}`) })) }],
    ['a duplicate id', { requests: [{ id: '1', method: 'GET', url: path('a') }, { id: '1', method: 'GET', url: path('b') }] }],
    ['an absolute url', { requests: [{ id: '1', method: 'GET', url: `https://graph.microsoft.com/beta${path('a')}` }] }],
    ['a nested batch', { requests: [{ id: '1', method: 'POST', url: '/$batch', headers: { 'content-type': 'application/json' }, body: {} }] }],
    ['a body without Content-Type', { requests: [{ id: '1', method: 'PATCH', url: path('a'), body: { height: 1 } }] }],
    ['no requests', { requests: [] }],
  ])('refuses %s with 400 for the whole batch, running no item', async (_case, body) => {
    const response = await postBatch(body);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BadRequest');
    expect(simulator.requests.filter((request) => request.batchId !== undefined)).toHaveLength(0);
  });

  it.each([
    ['not declared JSON', 'text/plain', '{"requests":[]}', 415, 'UnsupportedMediaType'],
    ['declared JSON that does not parse', 'application/json', '{"requests":', 400, 'BadRequest'],
  ])('refuses an envelope %s as Graph does, running no item', async (_case, contentType, body, status, code) => {
    const response = await fetch(batchUrl(), { method: 'POST', headers: { authorization: 'Bearer sim-token', 'content-type': contentType }, body });

    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(simulator.requests.filter((request) => request.batchId !== undefined)).toHaveLength(0);
  });

  it('answers 401 to a batch without a bearer token', async () => {
    const response = await postBatch({ requests: [{ id: '1', method: 'GET', url: path('a') }] }, null);

    expect(response.status).toBe(401);
  });

  it("runs at most 4 items of a batch at a time, and answers items over Outlook's mailbox limit 429 with their own Retry-After", async () => {
    const decimal = new GraphSimulator({ mailboxConcurrency: 4, mailboxRetryAfterS: 0.249 });
    const decimalUrl = await decimal.listen();
    try {
      // One direct call holds a slot of the mailbox while a batch of 8 runs: the batch's 4 at a
      // time meet 3 free slots.
      const direct = gate();
      decimal.fail({ method: 'PATCH', holdUntil: direct.closed });
      const items = gate();
      decimal.fail({ method: 'GET', holdUntil: items.closed, times: 3 });
      const held = fetch(`${decimalUrl}${path('held')}`, {
        method: 'PATCH',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ height: 1 }),
      });
      await waitFor(() => decimal.requests.length === 1);
      const batch = fetch(`${decimalUrl}/$batch`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ requests: Array.from({ length: 8 }, (_, index) => ({ id: String(index), method: 'GET', url: path(`c${index}`) })) }),
      });
      // Three items hold the mailbox's free slots, the fourth was answered 429 at once and the
      // next ones follow it: never more than 4 items started before the first held one ends.
      await waitFor(() => decimal.requests.filter((request) => request.batchId).length === 8);
      items.open();
      direct.open();
      const answer = (await (await batch).json()) as BatchAnswer;
      await held;

      const throttled = answer.responses.filter((response) => response.status === 429);
      expect(throttled).toHaveLength(5);
      expect(throttled[0]!.headers['Retry-After']).toBe('0.249');
      expect(decimal.throttledCount).toBe(5);
    } finally {
      await decimal.close();
    }
  });

  it('keeps items waiting beyond the 4 in flight', async () => {
    const items = gate();
    simulator.fail({ method: 'GET', holdUntil: items.closed, times: 6 });
    const batch = postBatch({ requests: Array.from({ length: 6 }, (_, index) => ({ id: String(index), method: 'GET', url: path(`w${index}`, 'other') })) });
    await waitFor(() => simulator.requests.filter((request) => request.batchId).length === 4);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(simulator.requests.filter((request) => request.batchId)).toHaveLength(4);
    items.open();
    expect(((await (await batch).json()) as BatchAnswer).responses).toHaveLength(6);
  });

  it('answers a batch fault for the envelope, and item faults inside its 200', async () => {
    simulator.fail({ batch: true, status: 503, retryAfter: '2' });
    simulator.fail({ invitationId: 'i', status: 403 });
    const whole = await postBatch({ requests: [{ id: '1', method: 'GET', url: path('a') }] });
    const inside = await postBatch({ requests: [{ id: '1', method: 'GET', url: path('a') }] });

    expect([whole.status, whole.headers.get('retry-after')]).toEqual([503, '2']);
    expect(inside.status).toBe(200);
    expect(((await inside.json()) as BatchAnswer).responses[0]).toMatchObject({ status: 403, body: { error: { code: 'ErrorAccessDenied' } } });
  });
});

describe("the Graph simulator's fault API over HTTP (controlApi, the demo's)", () => {
  let controlled: GraphSimulator;
  let root: string;
  beforeAll(async () => {
    controlled = new GraphSimulator({ controlApi: true });
    root = new URL('/', await controlled.listen()).href.replace(/\/$/, '');
  });
  afterAll(() => controlled.close());
  beforeEach(() => controlled.reset());

  const photo = (contactId: string) => `${controlled.baseUrl}/invitations/i/invitedUser/contacts/${contactId}/photo`;
  const read = (contactId: string) => fetch(photo(contactId), { headers: { authorization: 'Bearer sim-token' } });
  const postFault = (fault: unknown, contentType = 'application/json') =>
    fetch(`${root}/_simulator/faults`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof fault === 'string' ? fault : JSON.stringify(fault) });

  it('queues a fault posted as JSON, which then answers the matching reads, and lists it', async () => {
    await patch(photo('ann'), { height: 48, width: 48 });
    await patch(photo('bob'), { height: 48, width: 48 });

    const posted = await postFault({ contactId: 'bob', status: 503, code: 'serviceNotAvailable', retryAfter: '2', times: 'always' });
    const listed = (await (await fetch(`${root}/_simulator/faults`)).json()) as unknown;
    const bobs = [await read('bob'), await read('bob')];
    const ann = await read('ann');

    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ queued: { contactId: 'bob', status: 503, code: 'serviceNotAvailable', retryAfter: '2', times: 'always' } });
    expect(listed).toEqual({ faults: [{ contactId: 'bob', status: 503, code: 'serviceNotAvailable', retryAfter: '2', times: 'always' }] });
    expect(bobs.map((answer) => [answer.status, answer.headers.get('retry-after')])).toEqual([
      [503, '2'],
      [503, '2'],
    ]);
    expect(ann.status).toBe(200);
  });

  it.each([
    ['an unknown field', { contactId: 'bob', statsu: 503 }, 'Unknown fault field "statsu"'],
    ['a status that is a string', { status: '503' }, 'The fault field "status" must be a whole number from 100 to 599 (got "503")'],
    ['times of 0', { times: 0 }, 'The fault field "times" must be a whole number from 1 to 1000000, or "always"'],
    ['an unknown body', { body: 'teapot' }, 'The fault field "body" must be one of "html", "empty"'],
    ['a method Graph is not sent', { method: 'DELETE' }, 'The fault field "method" must be one of "GET", "PATCH", "PUT"'],
    ['holdUntil, which only a test can give', { holdUntil: {} }, 'Unknown fault field "holdUntil"'],
    ['an array', [{ status: 503 }], 'The body must be a JSON object'],
    ['text that is not JSON', '{status: 503', 'The body is not JSON'],
  ])('refuses %s with 400 and a message naming it, and queues nothing', async (_case, fault, message) => {
    await patch(photo('bob'), { height: 48, width: 48 });

    const refused = await postFault(fault);

    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain(message);
    expect(controlled.pendingFaults).toEqual([]);
    expect((await read('bob')).status).toBe(200);
  });

  it('refuses a fault sent as anything but JSON (415), so that a cross-site form cannot queue one', async () => {
    const refused = await postFault({ status: 503 }, 'text/plain');

    expect(refused.status).toBe(415);
    expect(controlled.pendingFaults).toEqual([]);
  });

  it('forgets every queued fault on DELETE /_simulator/faults', async () => {
    await patch(photo('bob'), { height: 48, width: 48 });
    await postFault({ contactId: 'bob', status: 403, times: 'always' });

    const cleared = await fetch(`${root}/_simulator/faults`, { method: 'DELETE' });

    expect(cleared.status).toBe(204);
    expect((await read('bob')).status).toBe(200);
  });

  it('forgets faults and the request log on POST /_simulator/reset, and keeps the stored photos', async () => {
    await patch(photo('bob'), { height: 48, width: 48 });
    await postFault({ status: 500, times: 'always' });

    const reset = await fetch(`${root}/_simulator/reset`, { method: 'POST' });

    expect(reset.status).toBe(204);
    expect([controlled.requests.length, controlled.httpRequestCount, controlled.pendingFaults.length]).toEqual([0, 0, 0]);
    expect(await (await read('bob')).json()).toMatchObject({ id: '48X48' });
  });

  it('keeps its own requests out of the request log and count, which stay those sent to Graph', async () => {
    await postFault({ status: 500 });
    await fetch(`${root}/_simulator/faults`);
    await fetch(`${root}/_simulator/faults`, { method: 'DELETE' });

    expect([controlled.requests.length, controlled.httpRequestCount]).toEqual([0, 0]);
  });

  it('answers 404 to a path it does not have, and 405 to a method a path does not take', async () => {
    const unknown = await fetch(`${root}/_simulator/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const wrongMethod = await fetch(`${root}/_simulator/reset`);

    expect([unknown.status, wrongMethod.status]).toEqual([404, 405]);
    expect(controlled.pendingFaults).toEqual([]);
  });
});

describe('a Graph simulator without controlApi (every one but the demo’s)', () => {
  it('answers the fault API’s paths as any path Graph does not have, and queues nothing', async () => {
    await patch(photoUrl('i', 'bob'), { height: 48, width: 48 });
    const root = new URL('/', baseUrl).href.replace(/\/$/, '');
    const headers = { authorization: 'Bearer sim-token', 'content-type': 'application/json' };

    const posted = await fetch(`${root}/_simulator/faults`, { method: 'POST', headers, body: JSON.stringify({ status: 503, times: 'always' }) });
    const otherPath = await fetch(`${root}/_elsewhere/faults`, { method: 'POST', headers, body: JSON.stringify({ status: 503, times: 'always' }) });
    const unauthenticated = await fetch(`${root}/_simulator/reset`, { method: 'POST' });

    expect(posted.status).toBe(otherPath.status);
    expect(((await posted.json()) as { error: { code: string } }).error.code).toBe('invalidRequest');
    expect(unauthenticated.status).toBe(401);
    expect(simulator.pendingFaults).toEqual([]);
    expect((await fetch(photoUrl('i', 'bob'), { headers: { authorization: 'Bearer sim-token' } })).status).toBe(200);
  });
});
