import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GatewayConfig } from '../../config/config.js';
import type { GatewayContext } from '../../schema/context.js';
import { operationLimits, photoListLimitPlugin } from '../../schema/operation-limits.js';
import { resolvers } from '../../schema/resolvers.js';
import { typeDefs } from '../../schema/type-defs.js';
import { operationLogger } from '../logger.js';
import type { GatewayServices } from '../services.js';
import { createFormatError } from './error-formatting.js';
import { landingPagePlugin } from './landing-page.js';
import { OperationLog } from './operation-log-plugin.js';
import { apolloReportingPlugins, loadFederation } from './optional-plugins.js';
import { persistedQueries } from './persisted-queries.js';
import { signInPlugin } from './sign-in-plugin.js';
import { TrustedDocumentStore } from './trusted-documents.js';

type ApolloServices = Pick<GatewayServices, 'logger' | 'metrics' | 'shared' | 'signIn'>;

/**
 * Apollo Server for the gateway's schema (or, with `FEDERATION=true`, the same schema as a
 * Federation 2 subgraph), started. Optional parts are loaded only when switched on: otherwise
 * they cost no start-up time or memory.
 */
export async function startApolloServer(config: GatewayConfig, services: ApolloServices): Promise<ApolloServer<GatewayContext>> {
  const { logger, shared } = services;
  const limits = operationLimits(config.production);
  const trusted = config.trustedDocuments;
  const federation = config.federation ? await loadFederation() : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    // The same schema, served as a Federation 2 subgraph with FEDERATION=true.
    ...(federation ? { schema: federation.schema } : { typeDefs, resolvers }),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    introspection: config.introspection,
    // In production, no "Did you mean ...?" in validation errors: the schema is not to be mapped by guessing.
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: config.debug,
    formatError: createFormatError(logger, config.debug, limits.formatError, config.production),
    csrfPrevention: true,
    // With trusted documents, persisted queries are answered from the manifest and never registered.
    ...(trusted
      ? { persistedQueries: { cache: new TrustedDocumentStore(trusted) } }
      : { persistedQueries: persistedQueries(config.persistedQueries, shared?.persistedQueries) }),
    allowBatchedHttpRequests: false,
    // Shutdown is the gateway's (see shutdown.ts), not Apollo's own signal handlers'.
    stopOnTerminationSignals: false,
    logger,
    plugins: await apolloPlugins(config, services, federation?.plugins),
    // GraphOS reporting is configured from the gateway's configuration only, never guessed by
    // Apollo from the process environment (see apolloReportingPlugins).
    apollo: config.apollo ? { key: config.apollo.key, graphRef: config.apollo.graphRef } : {},
  });
  await apollo.start();
  return apollo;
}

/** Apollo's plugins, in the order they run; `federationPlugins` with `FEDERATION=true`. */
async function apolloPlugins(
  config: GatewayConfig,
  { logger, metrics, signIn }: ApolloServices,
  federationPlugins: ApolloServerPlugin[] | undefined,
): Promise<ApolloServerPlugin<GatewayContext>[]> {
  return [
    // With sign-in, a refused token costs no token exchange and no Graph call.
    ...(signIn ? [signInPlugin(signIn.authenticate)] : []),
    landingPagePlugin(config.production, config.auth),
    new OperationLog(metrics, operationLogger(logger)).plugin(),
    photoListLimitPlugin(config.photoListMax),
    // Answers are never HTTP-cached (each is one caller's Graph data); the cache-control plugin
    // Apollo installs by default would wrap every field resolver for nothing.
    ApolloServerPluginCacheControlDisabled(),
    ...(federationPlugins ?? []),
    // `_service` (the whole schema) only for a caller with a token (with sign-in, a valid one), unless FEDERATION_SDL_PUBLIC.
    ...(federationPlugins && !config.federationSdlPublic ? [(await import('./service-sdl-guard.js')).serviceSdlGuardPlugin(signIn?.authenticate)] : []),
    ...(await apolloReportingPlugins(config)),
  ];
}
