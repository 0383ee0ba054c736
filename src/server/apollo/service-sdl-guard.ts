import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { Authenticate } from '../../auth/caller-authentication.js';
import { SignInRefusal } from '../../auth/sign-in-refusal.js';
import { GatewayErrorCode } from '../../errors/codes.js';
import type { GatewayContext } from '../../schema/context.js';
import { fragmentsOf, sumRootFields } from '../../schema/operation-limits.js';

/** Federation's root field that answers the subgraph's whole schema (`{ _service { sdl } }`). */
export const SERVICE_FIELD = '_service';

const readsSdlByOperation = new WeakMap<OperationDefinitionNode, boolean>();

/**
 * With Federation and `FEDERATION_SDL_PUBLIC` off (the default where introspection is off, as in
 * production), `_service` answers only a caller with a bearer token: it is the whole schema,
 * which introspection being off is meant to keep from anonymous callers. The router fetching it
 * (or `rover subgraph introspect`) sends a token, as it does for every other operation. With
 * sign-in (`authenticate`), the token is checked as any other is.
 */
export function serviceSdlGuardPlugin(authenticate?: Authenticate): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation || !readsSdl(operation, document)) return;
          if (authenticate) {
            await authenticate(contextValue.authorization).catch((error: unknown) => {
              throw error instanceof SignInRefusal ? error.toGraphQLError() : error;
            });
          } else if (contextValue.authorization === undefined) {
            const headers = new HeaderMap([['www-authenticate', 'Bearer']]);
            throw new GraphQLError('Send a bearer token to read the subgraph’s schema (`_service`), or set FEDERATION_SDL_PUBLIC=true.', {
              extensions: { code: GatewayErrorCode.UNAUTHENTICATED, http: { status: 401, headers } },
            });
          }
        },
      };
    },
  };
}

/** Whether the operation selects `_service` at its root (through fragments too); known once per operation. */
function readsSdl(operation: OperationDefinitionNode, document: Parameters<typeof fragmentsOf>[0]): boolean {
  let reads = readsSdlByOperation.get(operation);
  if (reads === undefined) {
    const fragments = fragmentsOf(document);
    reads = sumRootFields(operation.selectionSet, (name) => fragments.get(name), (field) => (field.name.value === SERVICE_FIELD ? 1 : 0)) > 0;
    readsSdlByOperation.set(operation, reads);
  }
  return reads;
}
