import type { ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import type { AuthConfig } from '../../config/auth-config.js';
import { EXAMPLE_MUTATION, EXAMPLE_VARIABLES } from '../../schema/example-operation.js';

/**
 * Outside production, `GET /graphql` from a browser opens Apollo Sandbox pre-filled with the
 * example mutation, its variables and an `Authorization` header to fill in. In production it
 * shows Apollo's small production page instead.
 */
export function landingPagePlugin(production: boolean, auth: AuthConfig): ApolloServerPlugin {
  if (production) return ApolloServerPluginLandingPageProductionDefault({ footer: false });
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    includeCookies: false,
    document: EXAMPLE_MUTATION,
    variables: EXAMPLE_VARIABLES,
    headers: { Authorization: authorizationPlaceholder(auth) },
  });
}

/**
 * What the header asks for: a Graph token is forwarded as it is in passthrough, but with
 * sign-in the gateway takes only a token for its own API (a Graph token there is a 401).
 */
function authorizationPlaceholder(auth: AuthConfig): string {
  if (auth.mode === 'passthrough') return 'Bearer <your Microsoft Graph access token>';
  return `Bearer <a token for this gateway's API (scope ${auth.requiredScope}), not a Graph token; AUTH_MODE=obo npm run demo prints one>`;
}
