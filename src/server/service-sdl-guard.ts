import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type OperationDefinitionNode } from 'graphql';
import { GatewayErrorCode } from '../errors/codes.js';
import type { GatewayContext } from '../schema/context.js';
import { fragmentsOf, sumRootFields } from '../schema/operation-limits.js';

/** Federation's root field that answers the subgraph's whole schema (`{ _service { sdl } }`). */
export const SERVICE_FIELD = '_service';

const readsSdlByOperation = new WeakMap<OperationDefinitionNode, boolean>();

/**
 * With Federation and `FEDERATION_SDL_PUBLIC` off (the default where introspection is off, as in
 * production), `_service` answers only a caller with a bearer token: it is the whole schema,
 * which introspection being off is meant to keep from anonymous callers. The router fetching it
 * (or `rover subgraph introspect`) sends a token, as it does for every other operation. With
 * sign-in, the token is checked like any other (see the sign-in plugin).
 */
export function serviceSdlGuardPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation || contextValue.authorization !== undefined) return;
          let readsSdl = readsSdlByOperation.get(operation);
          if (readsSdl === undefined) {
            const fragments = fragmentsOf(document);
            readsSdl = sumRootFields(operation.selectionSet, (name) => fragments.get(name), (field) => (field.name.value === SERVICE_FIELD ? 1 : 0)) > 0;
            readsSdlByOperation.set(operation, readsSdl);
          }
          if (!readsSdl) return;
          const headers = new HeaderMap([['www-authenticate', 'Bearer']]);
          throw new GraphQLError('Send a bearer token to read the subgraph’s schema (`_service`), or set FEDERATION_SDL_PUBLIC=true.', {
            extensions: { code: GatewayErrorCode.UNAUTHENTICATED, http: { status: 401, headers } },
          });
        },
      };
    },
  };
}
