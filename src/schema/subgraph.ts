import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, Kind, parse, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema } from 'graphql';
import { ENTITIES_FIELD, GRAPH_CALLING_FIELDS, sumRootFields } from './operation-limits.js';
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
 * The Graph-call limit for `_entities`: each representation is one Graph call, which no document
 * limit can see. Counted before anything runs, over every `_entities` field of the operation
 * (aliases, fragments), whatever its argument is: a variable of any name, or a list written in
 * the document. Every other Graph-calling root field counts one, as in the document rule.
 */
export function entityBatchLimitPlugin(maxGraphCalls: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, operation, document }) {
          if (!operation) return;
          const fragments = fragmentsOf(document);
          const variables = request.variables ?? {};
          const calls = sumRootFields(
            operation.selectionSet,
            (name) => fragments.get(name),
            (field) => (field.name.value === ENTITIES_FIELD ? representationsOf(field, variables) : GRAPH_CALLING_FIELDS.has(field.name.value) ? 1 : 0),
          );
          if (calls > maxGraphCalls) {
            throw new GraphQLError(`Too many Microsoft Graph calls in one operation: at most ${maxGraphCalls} entities per request.`, {
              extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** The operation's fragments by name. */
function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}

/** How many representations an `_entities` field asks for: a list's length, one for a lone value (list input coercion). */
function representationsOf(field: FieldNode, variables: Record<string, unknown>): number {
  const argument = field.arguments?.find((candidate) => candidate.name.value === 'representations');
  if (!argument) return 0;
  const { value } = argument;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return Array.isArray(given) ? given.length : given === null || given === undefined ? 0 : 1;
  }
  return value.kind === Kind.NULL ? 0 : 1;
}
