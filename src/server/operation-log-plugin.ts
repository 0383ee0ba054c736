import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../schema/context.js';

function rootFields(operation: OperationDefinitionNode | undefined): string | null {
  if (!operation) return null;
  const names = operation.selectionSet.selections.flatMap((selection) =>
    selection.kind === Kind.FIELD ? [selection.name.value] : [],
  );
  return names.length > 0 ? names.join(',') : null;
}

/**
 * Writes one structured log line per GraphQL operation: its name, root field(s), result code,
 * Graph's last status, the number of Graph attempts, latency and client-request-id. Nothing of
 * the request's headers or variables is logged, so no token can reach the log.
 */
export function operationLogPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, operation, response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const firstCode = errors?.[0]?.extensions?.['code'];
          contextValue.log.info(
            {
              operationName: operationName ?? 'anonymous',
              rootField: rootFields(operation),
              code: errors?.length ? (typeof firstCode === 'string' ? firstCode : 'ERROR') : 'OK',
              httpStatus: response.http.status ?? 200,
              upstreamStatus: contextValue.stats.upstreamStatus,
              attempts: contextValue.stats.attempts,
              latencyMs: Math.round((performance.now() - started) * 100) / 100,
              clientRequestId: contextValue.clientRequestId,
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
