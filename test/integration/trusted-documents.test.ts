import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { getIntrospectionQuery } from 'graphql';
import { typePolicies } from '../../examples/contact-photo-client.js';
import { UpdateContactPhotoDocument } from '../../examples/generated/graphql.js';
import { loadConfig } from '../../src/config/config.js';
import { UPDATE_PHOTO } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

// The manifest codegen writes for the frontend kit's operations.
const MANIFEST = fileURLToPath(new URL('../../examples/generated/persisted-documents.json', import.meta.url));
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
const [updateKey, updateText] = Object.entries(manifest).find(([, text]) => text.startsWith('mutation UpdateContactPhoto'))!;
const updateHash = updateKey.replace('sha256:', '');
const variables = { invitationId: 'trusted-inv', contactId: 'trusted-contact', input: { height: 48, width: 48 } };

async function post(url: string, body: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer trusted-token' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  return { status: response.status, code: json.errors?.[0]?.extensions?.code, message: json.errors?.[0]?.message, data: json.data };
}

const byHash = (hash: string) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

describe('with TRUSTED_DOCUMENTS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { TRUSTED_DOCUMENTS: MANIFEST } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it('accepts a manifest document by its hash, in the persisted-query format', async () => {
    const answer = await post(stack.url, byHash(updateHash));

    expect(answer).toMatchObject({ status: 200, code: undefined, data: { updateContactPhoto: { contactId: 'trusted-contact', height: 48 } } });
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('accepts a manifest document by its exact text', async () => {
    const answer = await post(stack.url, { query: updateText, variables });

    expect(answer).toMatchObject({ status: 200, code: undefined });
    expect(stack.simulator.requests).toHaveLength(1);
  });

  it('refuses any other document with FORBIDDEN and no Graph call', async () => {
    const answer = await post(stack.url, { query: UPDATE_PHOTO, variables });

    expect(answer).toMatchObject({ status: 403, code: 'FORBIDDEN', message: expect.stringMatching(/trusted documents/) });
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND and no Graph call', async () => {
    const answer = await post(stack.url, byHash('0'.repeat(64)));

    expect(answer.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('does not register documents (automatic persisted queries are off)', async () => {
    const hash = createHash('sha256').update(UPDATE_PHOTO).digest('hex');

    const registration = await post(stack.url, { query: UPDATE_PHOTO, ...byHash(hash) });
    const later = await post(stack.url, byHash(hash));

    expect(registration.code).toBe('FORBIDDEN');
    expect(later.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('lets introspection through while GRAPHQL_INTROSPECTION is on', async () => {
    const answer = await post(stack.url, { query: getIntrospectionQuery() });

    expect(answer).toMatchObject({ status: 200, code: undefined });
  });

  it('runs the kit’s ContactPhotoList by its hash', async () => {
    const [listKey] = Object.entries(manifest).find(([, text]) => text.startsWith('query ContactPhotoList'))!;

    const answer = await post(stack.url, {
      variables: { invitationId: 'trusted-inv', contactIds: ['a', 'b'] },
      extensions: { persistedQuery: { version: 1, sha256Hash: listKey.replace('sha256:', '') } },
    });

    expect(answer).toMatchObject({ status: 200, code: undefined, data: { contactPhotos: [null, null] } });
  });

  it('works with Apollo Client sending the kit’s hashes (PersistedQueryLink)', async () => {
    const client = new ApolloClient({
      link: new PersistedQueryLink({
        generateHash: (document) => (document as unknown as { __meta__: { hash: string } }).__meta__.hash.replace('sha256:', ''),
      }).concat(new HttpLink({ uri: stack.url, headers: { authorization: 'Bearer trusted-token' } })),
      cache: new InMemoryCache({ typePolicies }),
    });

    const { data } = await client.mutate({ mutation: UpdateContactPhotoDocument, variables });

    expect(data?.updateContactPhoto).toMatchObject({ contactId: 'trusted-contact', height: 48 });
    // The hash alone was enough: the document's text never crossed the wire.
    expect(stack.simulator.requests).toHaveLength(1);
  });
});

describe('with TRUSTED_DOCUMENTS and introspection off', () => {
  it('refuses introspection too', async () => {
    const stack = await startStack({ env: { TRUSTED_DOCUMENTS: MANIFEST, GRAPHQL_INTROSPECTION: 'false' } });
    try {
      const answer = await post(stack.url, { query: getIntrospectionQuery() });

      expect(answer.code).toBe('FORBIDDEN');
    } finally {
      await stack.close();
    }
  });
});

describe('a TRUSTED_DOCUMENTS manifest that cannot be used', () => {
  const directory = mkdtempSync(join(os.tmpdir(), 'manifest-'));
  const write = (name: string, content: string) => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };

  it.each([
    ['a missing file', join(directory, 'missing.json'), /must name a readable JSON manifest/],
    ['a file that is not JSON', write('not-json.json', 'nope'), /must name a readable JSON manifest/],
    ['a JSON array', write('array.json', '[]'), /must name a JSON object/],
    ['a key that is not the hash of its document', write('tampered.json', JSON.stringify({ [updateKey]: '{ __typename }' })), /not the SHA-256 of its document/],
  ])('stops start-up for %s, naming TRUSTED_DOCUMENTS', (_case, path, message) => {
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: path })).toThrow(message);
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: path })).toThrow(/^Invalid configuration: TRUSTED_DOCUMENTS /);
  });
});
