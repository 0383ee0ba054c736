import type { ApolloServerPlugin } from '@apollo/server';
import type { Authenticate } from '../../auth/caller-authentication.js';
import { SignInRefusal } from '../../auth/sign-in-refusal.js';
import { GatewayErrorCode } from '../../errors/codes.js';
import type { GatewayContext } from '../../schema/context.js';
import { rootFieldNames } from '../../schema/operation-limits.js';

/** Federation's root field that answers the subgraph's whole schema (`{ _service { sdl } }`). */
const SERVICE_FIELD = '_service';

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
          if (!operation || !rootFieldNames(operation, document).has(SERVICE_FIELD)) return;
          if (authenticate) {
            await authenticate(contextValue.authorization).catch((error: unknown) => {
              throw error instanceof SignInRefusal ? error.toGraphQLError() : error;
            });
          } else if (contextValue.authorization === undefined) {
            const message = 'Send a bearer token to read the subgraph’s schema (`_service`), or set FEDERATION_SDL_PUBLIC=true.';
            throw new SignInRefusal(401, GatewayErrorCode.UNAUTHENTICATED, message, 'Bearer').toGraphQLError();
          }
        },
      };
    },
  };
}
