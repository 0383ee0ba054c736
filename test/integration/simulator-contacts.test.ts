import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { GraphSimulator, type SimulatedContact } from '../../src/simulator/graph/graph-simulator.js';

let simulator: GraphSimulator;
let baseUrl: string;
beforeAll(async () => {
  simulator = new GraphSimulator({ mailboxConcurrency: 4 });
  baseUrl = await simulator.listen();
});
afterAll(() => simulator.close());
beforeEach(() => simulator.reset());

const listUrl = (invitationId: string, query = '') => `${baseUrl}/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts${query}`;
const get = (url: string, token = 'sim-token') => fetch(url, { headers: { authorization: `Bearer ${token}` } });

interface ListBody {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  value: Record<string, unknown>[];
}

/** `count` contacts named so that their case-insensitive order differs from their code-point order. */
function contacts(count: number): SimulatedContact[] {
  return Array.from({ length: count }, (_unused, index) => ({
    id: `c${String(index).padStart(3, '0')}`,
    displayName: `${index % 2 === 0 ? 'a' : 'B'}${String(count - index).padStart(3, '0')}`,
    emailAddresses: [{ address: `c${index}@example.com` }],
  }));
}

describe("the Graph simulator's contact list (GET .../invitedUser/contacts)", () => {
  it('answers pages of 10 when $top is absent, with a nextLink carrying $select, $top and $skip while more remain', async () => {
    simulator.addContacts('inv', contacts(25));
    const first = (await (await get(listUrl('inv', '?$orderby=displayName'))).json()) as ListBody;
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toBe(
      `${baseUrl}/invitations/inv/invitedUser/contacts?$select=id,displayName,givenName,surname,emailAddresses&$top=10&$orderby=displayName&$skip=10`,
    );
    const second = (await (await get(first['@odata.nextLink']!)).json()) as ListBody;
    const third = (await (await get(second['@odata.nextLink']!)).json()) as ListBody;
    expect(second.value).toHaveLength(10);
    expect(third.value).toHaveLength(5);
    expect(third['@odata.nextLink']).toBeUndefined();
    const ids = [...first.value, ...second.value, ...third.value].map((contact) => contact['id']);
    expect(new Set(ids).size).toBe(25);
  });

  it('orders by displayName without regard to case, ties by id', async () => {
    simulator.addContacts('inv', [
      { id: 'z', displayName: 'beth' },
      { id: 'b', displayName: 'Ann' },
      { id: 'a', displayName: 'ann' },
      { id: 'c', displayName: 'Carl' },
    ]);
    const body = (await (await get(listUrl('inv', '?$orderby=displayName&$top=4'))).json()) as ListBody;
    expect(body.value.map((contact) => contact['id'])).toEqual(['a', 'b', 'z', 'c']);
  });

  it('answers only the $select properties and id, and the same contacts to every principal', async () => {
    simulator.addContacts('inv', [{ id: 'ada', displayName: 'Ada Lovelace', givenName: 'Ada', surname: 'Lovelace', emailAddresses: [{ name: 'Ada', address: 'ada@example.com' }] }]);
    const alice = (await (await get(listUrl('inv', '?$select=displayName,emailAddresses'), 'alice')).json()) as ListBody;
    const bob = (await (await get(listUrl('inv', '?$select=displayName,emailAddresses'), 'bob')).json()) as ListBody;
    expect(alice.value).toEqual([{ '@odata.etag': expect.any(String), id: 'ada', displayName: 'Ada Lovelace', emailAddresses: [{ name: 'Ada', address: 'ada@example.com' }] }]);
    expect(bob.value).toEqual(alice.value);
    expect(alice['@odata.context']).toBe(`${baseUrl}/$metadata#invitations('inv')/invitedUser/contacts(id,displayName,emailAddresses)`);
  });

  it.each([
    ['$top=abc', 'a $top that is not a number'],
    ['$top=0', 'a $top of 0'],
    ['$skip=-1', 'a negative $skip'],
    ['$select=id,phone', 'an unknown property in $select'],
  ])('answers 400 to %s (%s)', async (query) => {
    simulator.addContacts('inv', contacts(3));
    const response = await get(listUrl('inv', `?${query}`));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toEqual(expect.any(String));
  });

  it('answers 401 without a bearer token, and an empty list for a mailbox with no contacts', async () => {
    expect((await fetch(listUrl('inv'))).status).toBe(401);
    const body = (await (await get(listUrl('nobody'))).json()) as ListBody;
    expect(body.value).toEqual([]);
    expect(body['@odata.nextLink']).toBeUndefined();
  });

  it('answers list faults only to lists, and photo faults never to lists', async () => {
    simulator.addContacts('inv', contacts(3));
    simulator.fail({ status: 503 }).fail({ list: true, status: 403 });
    expect((await get(listUrl('inv'))).status).toBe(403);
    expect((await get(listUrl('inv'))).status).toBe(200);
    expect((await get(`${listUrl('inv')}/c000/photo`)).status).toBe(503);
  });

  it('lists inside a batch, and records the list call with its mailbox', async () => {
    simulator.addContacts('inv', contacts(3));
    const response = await fetch(`${baseUrl}/$batch`, {
      method: 'POST',
      headers: { authorization: 'Bearer sim-token', 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/invitations/inv/invitedUser/contacts?$top=2' }] }),
    });
    const body = (await response.json()) as { responses: { status: number; body: ListBody }[] };
    expect(body.responses[0]!.status).toBe(200);
    expect(body.responses[0]!.body.value).toHaveLength(2);
    expect(simulator.requests.at(-1)).toMatchObject({ invitationId: 'inv', contactId: undefined, batchId: expect.any(String) });
  });

  it("serves a seeded picture to every principal, with metadata of its pixel size, until one uploads its own", async () => {
    const picture = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 0, b: 0 } } }).jpeg().toBuffer();
    simulator.addContacts('inv', [{ id: 'ada', displayName: 'Ada', picture }]);
    const photo = `${listUrl('inv')}/ada/photo`;
    const value = await get(`${photo}/$value`, 'alice');
    expect(value.headers.get('content-type')).toBe('image/jpeg');
    expect(value.headers.get('etag')).toMatch(/^".+"$/);
    expect(Buffer.from(await value.arrayBuffer())).toEqual(picture);
    expect(await (await get(photo, 'bob')).json()).toMatchObject({ id: '64X48', width: 64, height: 48 });

    const own = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 200 } } }).jpeg().toBuffer();
    const put = await fetch(`${photo}/$value`, { method: 'PUT', headers: { authorization: 'Bearer alice', 'content-type': 'image/jpeg' }, body: own });
    expect(put.status).toBe(200);
    expect(await (await get(photo, 'alice')).json()).toMatchObject({ id: '32X32' });
    expect(await (await get(photo, 'bob')).json()).toMatchObject({ id: '64X48' });
  });

  it('forgets contacts and their pictures at reset', async () => {
    const picture = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 0, b: 0 } } }).jpeg().toBuffer();
    simulator.addContacts('inv', [{ id: 'ada', displayName: 'Ada', picture }]);
    simulator.reset();
    expect(((await (await get(listUrl('inv'))).json()) as ListBody).value).toEqual([]);
    expect((await get(`${listUrl('inv')}/ada/photo/$value`)).status).toBe(404);
  });
});
