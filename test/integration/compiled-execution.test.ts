import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import type { Fault } from '../../src/simulator/graph/graph-simulator.js';
import { noiseJpeg } from '../support/images.js';
import { CONTACT_PHOTO, postGraphQL, UPDATE_PHOTO, type GraphQLResult } from '../support/graphql.js';
import { postUpload, UPLOAD_PHOTO } from '../support/upload.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Operations that come back run compiled by graphql-jit (GRAPHQL_JIT, on by default), and a
 * compiled operation answers exactly as graphql-js does: each case is sent once to a gateway with
 * GRAPHQL_JIT=false, then three times to one with it on (the first run on graphql-js, the next two
 * compiled), with Graph answering the same way each time, and the four answers must be the same.
 */

let jit: Stack;
let plain: Stack;
beforeAll(async () => {
  [jit, plain] = await Promise.all([startStack({ env: { LOG_LEVEL: 'debug' } }), startStack({ env: { GRAPHQL_JIT: 'false', LOG_LEVEL: 'debug' } })]);
});
afterAll(() => Promise.all([jit.close(), plain.close()]));

type Send = (stack: Stack) => Promise<GraphQLResult>;

/** What varies from call to call whatever runs the operation: Graph's ids and dates. */
function comparable({ status, body }: GraphQLResult): unknown {
  return { status, body: JSON.parse(JSON.stringify(body), (key, value: unknown) => (['requestId', 'clientRequestId', 'date'].includes(key) ? '…' : value)) };
}

async function answers(send: Send, faults: Fault[] = []): Promise<{ plain: unknown; jit: unknown[] }> {
  const sendTo = async (stack: Stack) => {
    stack.simulator.reset();
    for (const fault of faults) stack.simulator.fail(fault);
    return comparable(await send(stack));
  };
  const first = await sendTo(plain);
  const compiled = [];
  for (let run = 0; run < 3; run++) compiled.push(await sendTo(jit));
  return { plain: first, jit: compiled };
}

const ids = { invitationId: 'inv-1', contactId: 'c1' };
const post = (query: string, variables: Record<string, unknown> = {}): Send => (stack) => postGraphQL(stack.url, query, variables, { token: 'jit-token' });

/** `send`, once Graph holds a photo for each of `contactIds`. */
const withPhotos = (contactIds: string[], send: Send): Send => async (stack) => {
  for (const [index, contactId] of contactIds.entries()) {
    await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'inv-1', contactId, input: { height: 10 + index, width: 20 } }, { token: 'jit-token' });
  }
  return send(stack);
};

const LIST = `query List($invitationId: ID!, $contactIds: [ID!]!) {
  contactPhotos(invitationId: $invitationId, contactIds: $contactIds) { id height width }
}`;

const SHAPES = `query Shapes($invitationId: ID!, $contactId: ID!, $withSize: Boolean!, $skipId: Boolean!) {
  first: contactPhoto(invitationId: $invitationId, contactId: $contactId) { ...Size id @skip(if: $skipId) __typename }
  second: contactPhoto(invitationId: $invitationId, contactId: "c2") { ... on ProfilePhoto { width @include(if: $withSize) } }
  __typename
}
fragment Size on ProfilePhoto { height width }`;

describe('compiled execution (graphql-jit)', () => {
  it.each<[string, Send, Fault[]]>([
    ['an update', post(UPDATE_PHOTO, { ...ids, input: { height: 120, width: 96 } }), []],
    ['an update Graph answers 404', post(UPDATE_PHOTO, { ...ids, input: { height: 1, width: 1 } }), [{ status: 404, code: 'ErrorItemNotFound', message: 'Not found.' }]],
    ['an update Graph answers 403', post(UPDATE_PHOTO, { ...ids, input: { height: 1, width: 1 } }), [{ status: 403, code: 'ErrorAccessDenied', message: 'Denied.' }]],
    ['an update Graph keeps throttling', post(UPDATE_PHOTO, { ...ids, input: { height: 1, width: 1 } }), [{ status: 429, retryAfter: '0', times: Infinity }]],
    ['a read', withPhotos(['c1'], post(CONTACT_PHOTO, ids)), []],
    ['a list with one entry refused and one missing', withPhotos(['c1'], post(LIST, { invitationId: 'inv-1', contactIds: ['c1', 'c2', 'c3'] })), [
      { contactId: 'c2', status: 403 },
      { contactId: 'c3', status: 404 },
    ]],
    ['fragments, aliases, @skip, @include and __typename', withPhotos(['c1', 'c2'], post(SHAPES, { ...ids, withSize: true, skipId: true })), []],
    ['the same with the other directive values', withPhotos(['c1', 'c2'], post(SHAPES, { ...ids, withSize: false, skipId: false })), []],
    ['a variable of the wrong type', post(UPDATE_PHOTO, { ...ids, input: { height: 'tall', width: 1 } }), []],
    ['a required variable missing', post(UPDATE_PHOTO, { invitationId: 'inv-1', input: { height: 1, width: 1 } }), []],
    ['a null for a non-null input field', post(UPDATE_PHOTO, { ...ids, input: { height: null, width: 1 } }), []],
    ['an argument the resolver refuses', post(UPDATE_PHOTO, { ...ids, input: { height: -1, width: 1 } }), []],
    ['the introspection query', post(getIntrospectionQuery()), []],
    ['an upload', async (stack) => postUpload(stack.url, UPLOAD_PHOTO, ids, await noiseJpeg(64, 48), { token: 'jit-token' }), []],
  ])('answers %s exactly as graphql-js does, once compiled', async (_case, send, faults) => {
    const { plain: expected, jit: compiled } = await answers(send, faults);
    for (const answer of compiled) expect(answer).toEqual(expected);
  });

  it('ran each case above compiled: every document compiled once, whatever its runs and variables', () => {
    const compiled = jit.logs.entries('operation compiled').map((entry) => entry['operationName']);
    expect(compiled.sort()).toEqual(['ContactPhoto', 'IntrospectionQuery', 'List', 'Shapes', 'UpdateContactPhoto', 'UploadContactPhoto']);
    expect(plain.logs.entries('operation compiled')).toEqual([]);
  });

  it('compiles a document on its second run, not its first', async () => {
    const compiledOnce = () => jit.logs.entries('operation compiled').filter((entry) => entry['operationName'] === 'Once').length;
    await postGraphQL(jit.url, 'query Once { __typename }');
    expect(compiledOnce()).toBe(0);
    await postGraphQL(jit.url, 'query Once { __typename }');
    expect(compiledOnce()).toBe(1);
  });
});
