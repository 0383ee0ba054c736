import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { FEDERATION_SPEC, subgraphTypeDefs } from '../../src/schema/subgraph.js';
import { UPDATE_PHOTO, postGraphQL } from '../support/graphql.js';
import { startStack, type Stack } from '../support/stack.js';

/** A second, tiny subgraph: contacts, each pointing at its photo in the contact-photo subgraph. */
const contactsTypeDefs = `
  extend schema @link(url: "${FEDERATION_SPEC}", import: ["@key"])
  type Query { contact(invitationId: ID!, id: ID!): Contact }
  type Contact @key(fields: "invitationId id") {
    invitationId: ID!
    id: ID!
    displayName: String!
    photo: ProfilePhoto
  }
  type ProfilePhoto @key(fields: "invitationId contactId", resolvable: false) {
    invitationId: ID!
    contactId: ID!
  }
`;

const contactsResolvers = {
  Query: {
    contact: (_: unknown, { invitationId, id }: { invitationId: string; id: string }) => ({ invitationId, id, displayName: 'Ada Lovelace' }),
  },
  Contact: {
    photo: ({ invitationId, id }: { invitationId: string; id: string }) => ({ invitationId, contactId: id }),
  },
};

function compose(photosUrl: string, contactsUrl: string) {
  return composeServices([
    { name: 'contact-photos', typeDefs: parse(subgraphTypeDefs), url: photosUrl },
    { name: 'contacts', typeDefs: parse(contactsTypeDefs), url: contactsUrl },
  ]);
}

describe('the Federation 2 subgraph (FEDERATION=true)', () => {
  it('composes with another subgraph, ProfilePhoto keyed on invitationId and contactId', () => {
    const result = compose('http://photos.invalid/graphql', 'http://contacts.invalid/graphql');

    expect(result.errors).toBeUndefined();
    expect(result.supergraphSdl).toMatch(/type ProfilePhoto\s+@join__type\(graph: CONTACT_PHOTOS, key: "invitationId contactId"\)/);
  });

  describe('behind @apollo/gateway, as a local stand-in for the Router', () => {
    let stack: Stack;
    let contacts: ApolloServer;
    let router: ApolloServer<{ authorization?: string }>;
    let routerUrl: string;

    beforeAll(async () => {
      stack = await startStack({ env: { FEDERATION: 'true' } });
      contacts = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(contactsTypeDefs), resolvers: contactsResolvers }) });
      const { url: contactsUrl } = await startStandaloneServer(contacts, { listen: { port: 0, host: '127.0.0.1' } });
      const { supergraphSdl, errors } = compose(stack.url, contactsUrl);
      expect(errors).toBeUndefined();
      router = new ApolloServer<{ authorization?: string }>({
        gateway: new ApolloGateway({
          supergraphSdl: supergraphSdl!,
          buildService: ({ url }) =>
            new RemoteGraphQLDataSource<{ authorization?: string }>({
              url,
              // The router passes the caller's token on to the subgraphs.
              willSendRequest({ request, context }) {
                if (context.authorization) request.http?.headers.set('authorization', context.authorization);
              },
            }),
        }),
      });
      ({ url: routerUrl } = await startStandaloneServer(router, {
        listen: { port: 0, host: '127.0.0.1' },
        context: async ({ req }) => (req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      }));
    });
    afterAll(async () => {
      await router.stop();
      await contacts.stop();
      await stack.close();
    });

    it("reaches Graph through this subgraph for a contact's photo", async () => {
      await postGraphQL(stack.url, UPDATE_PHOTO, { invitationId: 'fed-inv', contactId: 'fed-contact', input: { height: 64, width: 64 } }, { token: 'fed-token' });

      const result = await postGraphQL(
        routerUrl,
        '{ contact(invitationId: "fed-inv", id: "fed-contact") { displayName photo { contactId id height width } } }',
        {},
        { token: 'fed-token' },
      );

      expect(result.body).toEqual({
        data: { contact: { displayName: 'Ada Lovelace', photo: { contactId: 'fed-contact', id: '64X64', height: 64, width: 64 } } },
      });
      const reads = stack.simulator.requests.filter((request) => request.method === 'GET');
      expect(reads).toHaveLength(1);
      expect(reads[0]!.headers.authorization).toBe('Bearer fed-token');
    });

    it('keeps the Graph-call limit for entity batches', async () => {
      stack.simulator.reset();
      const representations = Array.from({ length: 11 }, (_, i) => ({ __typename: 'ProfilePhoto', invitationId: 'i', contactId: `c${i}` }));

      const result = await postGraphQL(
        stack.url,
        'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ProfilePhoto { id } } }',
        { representations },
        { token: 'fed-token' },
      );

      expect(result.status).toBe(400);
      expect(result.body.errors![0]!.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(result.body.errors![0]!.message).toMatch(/at most 10 entities/);
      expect(stack.simulator.requests).toHaveLength(0);
    });

    const photo = (i: number) => ({ __typename: 'ProfilePhoto', invitationId: 'i', contactId: `c${i}` });
    const inline = (n: number) => `[${Array.from({ length: n }, (_, i) => `{ __typename: "ProfilePhoto", invitationId: "i", contactId: "c${i}" }`).join(', ')}]`;

    it.each([
      [
        '15 aliased _entities sharing one variable of 5',
        `query ($r: [_Any!]!) { ${Array.from({ length: 15 }, (_, i) => `e${i}: _entities(representations: $r) { ... on ProfilePhoto { id } }`).join(' ')} }`,
        { r: [0, 1, 2, 3, 4].map(photo) },
      ],
      ['a variable of another name', 'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on ProfilePhoto { id } } }', { reps: Array.from({ length: 11 }, (_, i) => photo(i)) }],
      ['representations written in the document', `{ _entities(representations: ${inline(11)}) { ... on ProfilePhoto { id } } }`, {}],
      ['representations given by a variable’s default value', `query ($r: [_Any!]! = ${inline(11)}) { _entities(representations: $r) { ... on ProfilePhoto { id } } }`, {}],
      ['_entities in a fragment', `query ($r: [_Any!]!) { ...F } fragment F on Query { _entities(representations: $r) { ... on ProfilePhoto { id } } }`, { r: Array.from({ length: 11 }, (_, i) => photo(i)) }],
    ])('counts every representation against the limit: %s', async (_case, query, variables) => {
      stack.simulator.reset();

      const result = await postGraphQL(stack.url, query, variables, { token: 'fed-token' });

      expect(result.status).toBe(400);
      expect(result.body.errors![0]!.message).toMatch(/at most 10 entities/);
      expect(stack.simulator.requests).toHaveLength(0);
    });

    it('counts each representation as a photo read towards PHOTO_LIST_MAX, with the contactPhotos ids', async () => {
      stack.simulator.reset();
      const contactIds = Array.from({ length: 95 }, (_, i) => `list-${i}`);

      const result = await postGraphQL(
        stack.url,
        `query ($contactIds: [ID!]!) { contactPhotos(invitationId: "i", contactIds: $contactIds) { id } _entities(representations: ${inline(6)}) { __typename } }`,
        { contactIds },
        { token: 'fed-token' },
      );

      expect(result.status).toBe(400);
      expect(result.body.errors![0]).toMatchObject({ message: expect.stringMatching(/at most 100 .*asks for 101\.$/), extensions: { code: 'BAD_USER_INPUT' } });
      expect(stack.simulator.requests).toHaveLength(0);
    });

    it('lets exactly 10 through, read together in one batch, each contact once', async () => {
      stack.simulator.reset();

      const result = await postGraphQL(stack.url, `{ a: _entities(representations: ${inline(4)}) { __typename } b: _entities(representations: ${inline(6)}) { __typename } }`, {}, { token: 'fed-token' });

      expect(result.body.errors).toBeUndefined();
      // c0 to c3 are in both lists: six contacts.
      expect(stack.simulator.requests.filter((request) => request.batchId !== undefined).map((request) => request.contactId).sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
      expect(stack.simulator.httpRequestCount).toBe(1);
    });
  });
});
