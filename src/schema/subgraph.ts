import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { graphCall, resolvers } from './resolvers.js';
import type { GatewayContext } from './context.js';
import { typeDefs } from './type-defs.js';

/** The Federation 2 version this subgraph links to. */
export const FEDERATION_SPEC = 'https://specs.apollo.dev/federation/v2.7';

/**
 * The schema as an Apollo Federation 2 subgraph: the same SDL, linked to Federation 2, with
 * `ProfilePhoto` an entity keyed on `invitationId contactId` (the photo's identity; Graph's `id`
 * is a size label that many contacts share).
 */
export const subgraphTypeDefs = `extend schema @link(url: "${FEDERATION_SPEC}", import: ["@key"])

${typeDefs.replace(/^type ProfilePhoto \{/m, 'type ProfilePhoto @key(fields: "invitationId contactId") {')}`;

if (!subgraphTypeDefs.includes('@key(fields: "invitationId contactId")')) {
  throw new Error('schema.graphql has no `type ProfilePhoto {` line to put the Federation key on.');
}

/** `buildSubgraphSchema`'s resolver map type (the package does not export it by name). */
type SubgraphResolvers = Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers'];

interface PhotoReference {
  invitationId: string;
  contactId: string;
}

/**
 * The subgraph schema: the gateway's resolvers, and a reference resolver that fetches a photo
 * another subgraph points to (`null` when the contact has none).
 */
export function buildContactPhotoSubgraph(): GraphQLSchema {
  const subgraphResolvers = {
    ...resolvers,
    ProfilePhoto: {
      ...resolvers.ProfilePhoto,
      async __resolveReference({ invitationId, contactId }: PhotoReference, context: GatewayContext) {
        const photo = await context.graph.getContactPhoto(invitationId, contactId, graphCall(context));
        return photo && { invitationId, contactId, ...photo };
      },
    },
  };
  // The map is typed for GatewayContext; Apollo's is for any context, which it passes through.
  return buildSubgraphSchema({ typeDefs: parse(subgraphTypeDefs), resolvers: subgraphResolvers as unknown as SubgraphResolvers });
}

/**
 * The Graph-call limit for `_entities`: a router sends the photos it wants as a
 * `representations` variable, each one a Graph call, which no document limit can see.
 */
export function entityBatchLimitPlugin(maxGraphCalls: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const representations = request.variables?.['representations'];
          if (Array.isArray(representations) && representations.length > maxGraphCalls) {
            throw new GraphQLError(`Too many Microsoft Graph calls in one operation: at most ${maxGraphCalls} entities per request.`, {
              extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
