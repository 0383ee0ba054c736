import type { ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { EXAMPLE_MUTATION, EXAMPLE_VARIABLES } from '../../schema/example-operation.js';

/**
 * Outside production, `GET /graphql` from a browser opens Apollo Sandbox pre-filled with the
 * example mutation, its variables and an `Authorization` header to fill in. In production it
 * shows Apollo's small production page instead.
 */
export function landingPagePlugin(production: boolean): ApolloServerPlugin {
  if (production) return ApolloServerPluginLandingPageProductionDefault({ footer: false });
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    includeCookies: false,
    document: EXAMPLE_MUTATION,
    variables: EXAMPLE_VARIABLES,
    headers: { Authorization: 'Bearer <your Microsoft Graph access token>' },
  });
}
