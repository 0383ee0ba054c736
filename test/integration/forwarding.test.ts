import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CONTACT_PHOTO, UPDATE_PHOTO, errorCode, postGraphQL } from '../support/graphql.js';
import { GraphSimulator } from '../../src/simulator/graph/graph-simulator.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

const ids = { invitationId: 'inv-1', contactId: 'AAMkAGI2THVSAAA=' };

describe('updateContactPhoto', () => {
  it('PATCHes the photo and returns the typed ProfilePhoto', async () => {
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 6, width: 5 } }, { token: 't1' });

    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: { updateContactPhoto: { id: '5X6', height: 6, width: 5 } } });
    const [sent] = stack.simulator.requests;
    expect(sent).toMatchObject({
      method: 'PATCH',
      url: '/beta/invitations/inv-1/invitedUser/contacts/AAMkAGI2THVSAAA%3D/photo',
      invitationId: 'inv-1',
      contactId: 'AAMkAGI2THVSAAA=',
    });
    expect(JSON.parse(sent!.body)).toEqual({ '@odata.type': '#microsoft.graph.profilePhoto', height: 6, width: 5 });
    expect(sent!.headers['content-type']).toBe('application/json');
  });

  it('sends only the input fields the caller gave, and null as null', async () => {
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 7 } }, { token: 't1' });
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { width: null } }, { token: 't1' });
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: {} }, { token: 't1' });

    expect(stack.simulator.requests.map((request) => JSON.parse(request.body))).toEqual([
      { '@odata.type': '#microsoft.graph.profilePhoto', height: 7 },
      { '@odata.type': '#microsoft.graph.profilePhoto', width: null },
      { '@odata.type': '#microsoft.graph.profilePhoto' },
    ]);
  });

  it('sends a size of 0 (a valid Int32, not negative) to Graph', async () => {
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 0, width: 0 } }, { token: 't1' });

    expect(result.body).toEqual({ data: { updateContactPhoto: { id: '0X0', height: 0, width: 0 } } });
    expect(JSON.parse(stack.simulator.requests[0]!.body)).toEqual({ '@odata.type': '#microsoft.graph.profilePhoto', height: 0, width: 0 });
  });

  it("forwards the caller's Authorization header unchanged, with Accept and a User-Agent naming the gateway", async () => {
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 1 } }, { headers: { authorization: 'Bearer eyJ.abc.def' } });

    const headers = stack.simulator.requests[0]!.headers;
    expect(headers['authorization']).toBe('Bearer eyJ.abc.def');
    expect(headers['accept']).toBe('application/json');
    expect(headers['user-agent']).toBe('contact-photo-gateway/0.1.0');
  });

  it("passes on the caller's client-request-id when it is a GUID, and echoes it back", async () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 1 } }, {
      token: 't1',
      headers: { 'client-request-id': id },
    });

    expect(stack.simulator.requests[0]!.headers['client-request-id']).toBe(id);
    expect(result.headers.get('client-request-id')).toBe(id);
  });

  it('sends a new UUID as client-request-id when the caller sent none or an invalid one', async () => {
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 1 } }, { token: 't1' });
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 1 } }, {
      token: 't1',
      headers: { 'client-request-id': 'not a guid' },
    });

    const sent = stack.simulator.requests.map((request) => request.headers['client-request-id']);
    expect(sent).toHaveLength(2);
    for (const id of sent) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent[0]).not.toBe(sent[1]);
  });

  it('answers UNAUTHENTICATED with data null and makes no upstream call when there is no bearer token', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Basic dXNlcjpwYXNz']) {
      const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 1 } }, {
        ...(authorization !== undefined && { headers: { authorization } }),
      });
      expect(result.status).toBe(200);
      expect(result.body.data).toBeNull();
      expect(errorCode(result)).toBe('UNAUTHENTICATED');
    }
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['an empty invitationId', { invitationId: '', contactId: 'c' }, 'invitationId'],
    ['contactId ".."', { invitationId: 'i', contactId: '..' }, 'contactId'],
    ['invitationId "."', { invitationId: '.', contactId: 'c' }, 'invitationId'],
    ['a 1,025-character contactId', { invitationId: 'i', contactId: 'x'.repeat(1025) }, 'contactId'],
    ['a control character in invitationId', { invitationId: 'i\u0007', contactId: 'c' }, 'invitationId'],
  ])('answers BAD_USER_INPUT for %s with no upstream call', async (_case, badIds, argument) => {
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...badIds, input: { height: 1 } }, { token: 't1' });

    expect(result.body.data).toBeNull();
    expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it.each([[{ height: -1 }, 'input.height'], [{ width: -20, height: 3 }, 'input.width']])(
    'answers BAD_USER_INPUT for the negative size %j with no upstream call',
    async (input, argument) => {
      const result = await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input }, { token: 't1' });

      expect(result.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(stack.simulator.requests).toHaveLength(0);
    },
  );

  it.each([
    ['a/b', 'a%2Fb'],
    ['..%2F..', '..%252F..'],
    ['x?y=1', 'x%3Fy%3D1'],
    ['x#y', 'x%23y'],
    ['ünï', '%C3%BCn%C3%AF'],
  ])('keeps the id %j inside its own path segment', async (contactId, segment) => {
    const result = await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'i', contactId, input: { height: 2 } }, { token: 't1' });

    expect(result.body.errors).toBeUndefined();
    const [sent] = stack.simulator.requests;
    expect(sent!.url).toBe(`/beta/invitations/i/invitedUser/contacts/${segment}/photo`);
    expect(sent!.contactId).toBe(contactId);
  });
});

describe('contactPhoto', () => {
  it('GETs the photo the caller stored', async () => {
    await postGraphQL(stack.url, UPDATE_PHOTO, { ...ids, input: { height: 48, width: 48 } }, { token: 't1' });

    const result = await postGraphQL(stack.url, CONTACT_PHOTO, ids, { token: 't1' });

    expect(result.body).toEqual({ data: { contactPhoto: { id: '48X48', height: 48, width: 48 } } });
    expect(stack.simulator.requests[1]).toMatchObject({ method: 'GET', body: '' });
  });

  it('answers null when Graph answers 404', async () => {
    const result = await postGraphQL(stack.url, CONTACT_PHOTO, { invitationId: 'inv-1', contactId: 'no-photo' }, { token: 't1' });

    expect(result.body).toEqual({ data: { contactPhoto: null } });
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('answers UNAUTHENTICATED without a token, with no upstream call', async () => {
    const result = await postGraphQL(stack.url, CONTACT_PHOTO, ids);

    expect(result.body.data).toEqual({ contactPhoto: null });
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(stack.simulator.requests).toHaveLength(0);
  });
});

describe('without a token', () => {
  it('answers introspection and __typename', async () => {
    const result = await postGraphQL(stack.url, '{ __typename __schema { mutationType { fields { name } } } }');

    expect(result.body).toEqual({
      data: { __typename: 'Query', __schema: { mutationType: { fields: [{ name: 'updateContactPhoto' }, { name: 'uploadContactPhoto' }] } } },
    });
  });
});

describe('Graph at an IPv6 address', () => {
  it('reaches a base URL with a bracketed IPv6 literal, sending the Host header Graph expects', async () => {
    const simulator = new GraphSimulator();
    const baseUrl = await simulator.listen(0, '::1');
    const stack = await startStack({ env: { GRAPH_BASE_URL: baseUrl } });
    try {
      const answer = await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'v6', contactId: 'c', input: { height: 2, width: 2 } }, { token: 'v6-token' });

      expect(errorCode(answer)).toBeUndefined();
      expect(simulator.requests).toHaveLength(1);
      expect(simulator.requests[0]!.headers.host).toBe(new URL(baseUrl).host);
    } finally {
      await stack.close();
      await simulator.close();
    }
  });
});
