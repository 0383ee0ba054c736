/**
 * The Apollo Server parts that are switched on by configuration, imported only when they are on:
 * when off they cost no start-up time or memory.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { GatewayConfig } from '../../config/config.js';
import { OPERATION_LIMITS } from '../../schema/operation-limits.js';

/**
 * The Federation 2 subgraph schema, with the Graph-call limit for entity batches and, as Apollo
 * would install by default for a subgraph, answers to the router's request for field timings.
 */
export async function loadFederation(): Promise<{ schema: GraphQLSchema; plugins: ApolloServerPlugin[] }> {
  const [{ buildContactPhotoSubgraph, entityBatchLimitPlugin }, { ApolloServerPluginInlineTrace }] = await Promise.all([
    import('../../schema/subgraph.js'),
    import('@apollo/server/plugin/inlineTrace'),
  ]);
  return { schema: buildContactPhotoSubgraph(), plugins: [entityBatchLimitPlugin(OPERATION_LIMITS.graphCalls), ApolloServerPluginInlineTrace()] };
}

/**
 * Apollo GraphOS usage reporting (and, outside Federation, schema reporting; a subgraph's schema
 * is published with `rover subgraph publish`) when APOLLO_KEY and APOLLO_GRAPH_REF are set, and
 * explicitly off otherwise, so that nothing is ever sent to Apollo unless configured.
 */
export async function apolloReportingPlugins(config: GatewayConfig): Promise<ApolloServerPlugin[]> {
  if (!config.apollo) return [ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()];
  const { usageReportingUrl, schemaReportingUrl } = config.apollo;
  const [{ ApolloServerPluginUsageReporting }, { ApolloServerPluginSchemaReporting }] = await Promise.all([
    import('@apollo/server/plugin/usageReporting'),
    import('@apollo/server/plugin/schemaReporting'),
  ]);
  return [
    ApolloServerPluginUsageReporting(usageReportingUrl === undefined ? {} : { endpointUrl: usageReportingUrl }),
    config.federation
      ? ApolloServerPluginSchemaReportingDisabled()
      : ApolloServerPluginSchemaReporting(schemaReportingUrl === undefined ? {} : { endpointUrl: schemaReportingUrl }),
  ];
}
