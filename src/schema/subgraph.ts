import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, Kind, parse, print, type FieldNode, type GraphQLSchema } from 'graphql';
import { ENTITIES_FIELD, fragmentsOf, isCappedGraphCall, listLength, resolvedVariables, rootFieldNames, sumRootFields } from './operation-limits.js';
import { assertValidId } from '../graph/contact-photo-path.js';
import { graphCall, readPhoto, resolvers } from './resolvers.js';
import type { GatewayContext } from './context.js';
import { typeDefs } from './type-defs.js';

/** The Federation 2 version this subgraph links to. */
export const FEDERATION_SPEC = 'https://specs.apollo.dev/federation/v2.7';

/**
 * What the subgraph leaves out of the schema: `contacts` and its types. In a supergraph, contacts
 * belong to a contacts subgraph, which points at their photos through `ProfilePhoto`'s key; a
 * `Contact` (or a Relay `PageInfo`) of this subgraph's would collide with its own, and composition
 * refuses a non-shareable field that two subgraphs resolve.
 */
const STANDALONE_ONLY_TYPES: ReadonlySet<string> = new Set(['ContactConnection', 'ContactEdge', 'PageInfo', 'Contact', 'EmailAddress']);
const STANDALONE_ONLY_QUERIES: ReadonlySet<string> = new Set(['contacts']);

function withoutContactList(sdl: string): string {
  const document = parse(sdl);
  const definitions = document.definitions
    .filter((definition) => !(definition.kind === Kind.OBJECT_TYPE_DEFINITION && STANDALONE_ONLY_TYPES.has(definition.name.value)))
    .map((definition) =>
      definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Query'
        ? { ...definition, fields: definition.fields?.filter((field) => !STANDALONE_ONLY_QUERIES.has(field.name.value)) }
        : definition,
    );
  return print({ ...document, definitions });
}

/**
 * The schema as an Apollo Federation 2 subgraph: the same SDL without the contact list, linked to
 * Federation 2, with `ProfilePhoto` an entity keyed on `invitationId contactId` (the photo's
 * identity; Graph's `id` is a size label that many contacts share).
 */
export const subgraphTypeDefs = `extend schema @link(url: "${FEDERATION_SPEC}", import: ["@key"])

${withoutContactList(typeDefs).replace(/^type ProfilePhoto \{/m, 'type ProfilePhoto @key(fields: "invitationId contactId") {')}`;

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
  const { Contact: _contact, Query: { contacts: _contacts, ...query } = {}, ...shared } = resolvers;
  const subgraphResolvers = {
    ...shared,
    Query: query,
    ProfilePhoto: {
      ...resolvers.ProfilePhoto,
      // Each representation is one read; the reads of one `_entities` field go to Graph together.
      __resolveReference({ invitationId, contactId }: PhotoReference, context: GatewayContext) {
        graphCall(context);
        assertValidId('invitationId', invitationId);
        assertValidId('contactId', contactId);
        return readPhoto(context, invitationId, contactId, 'none');
      },
    },
  };
  // The map is typed for GatewayContext; Apollo's is for any context, which it passes through.
  return buildSubgraphSchema({ typeDefs: parse(subgraphTypeDefs), resolvers: subgraphResolvers as unknown as SubgraphResolvers });
}

/**
 * The Graph-call limit for `_entities`: each representation is one Graph call, which no document
 * limit can see. Counted before anything runs, over every `_entities` field of the operation
 * (aliases, fragments), whatever its argument is: a variable of any name (as sent, or its default
 * value), or a list written in the document. Every other Graph-calling root field counts one, as
 * in the document rule.
 */
export function entityBatchLimitPlugin(maxGraphCalls: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, operation, document, schema }) {
          // Without `_entities`, what is counted here is what the document rule counted already
          // (maxGraphCallsRule, the same limit): nothing to walk per request.
          if (!operation || !rootFieldNames(operation, document).has(ENTITIES_FIELD)) return;
          const fragments = fragmentsOf(document);
          // Coerced only for an operation with entities: the others pay nothing for it. Variables
          // that do not coerce make execution refuse the operation before any resolver runs.
          let variables: Readonly<Record<string, unknown>> | undefined;
          const entities = (field: FieldNode) => listLength(field, 'representations', (variables ??= resolvedVariables(schema, operation, request) ?? {}));
          const calls = sumRootFields(
            operation.selectionSet,
            (name) => fragments.get(name),
            (field) => (field.name.value === ENTITIES_FIELD ? entities(field) : isCappedGraphCall(field.name.value) ? 1 : 0),
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
