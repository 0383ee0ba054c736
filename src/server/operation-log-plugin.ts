import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { Kind, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { Logger } from 'pino';
import { GatewayError, type FailureCause } from '../errors/gateway-error.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { GatewayContext } from '../schema/context.js';
import { ENTITIES_FIELD, GRAPH_CALLING_FIELDS, sumRootFields } from '../schema/operation-limits.js';

/** Root fields by operation: Apollo keeps parsed documents, so the same operation comes back. */
const rootFieldsOf = new WeakMap<OperationDefinitionNode, string | null>();

function rootFields(operation: OperationDefinitionNode | undefined): string | null {
  if (!operation) return null;
  let fields = rootFieldsOf.get(operation);
  if (fields === undefined) {
    const names = operation.selectionSet.selections.flatMap((selection) =>
      selection.kind === Kind.FIELD ? [selection.name.value] : [],
    );
    fields = names.length > 0 ? names.join(',') : null;
    rootFieldsOf.set(operation, fields);
  }
  return fields;
}


/** The `root_field` label by operation, from a fixed set (see `metricRootField`). */
const metricRootFieldOf = new WeakMap<OperationDefinitionNode, string>();

/**
 * The operation's Graph-calling root field, `multiple` when it has several kinds, `none` when it
 * has none: never the document's own words, so that no sequence of operations can grow the
 * number of series (varying `__typename`s around one field made 8,000 of them).
 */
function metricRootField(operation: OperationDefinitionNode | undefined): string {
  if (!operation) return 'none';
  let label = metricRootFieldOf.get(operation);
  if (label === undefined) {
    const kinds = new Set<string>();
    // Inline fragments are followed; named ones are not looked up (the label needs no more).
    sumRootFields(
      operation.selectionSet,
      () => undefined,
      (field) => {
        const name = field.name.value;
        if (GRAPH_CALLING_FIELDS.has(name) || name === ENTITIES_FIELD) kinds.add(name);
        return 0;
      },
    );
    label = kinds.size === 0 ? 'none' : kinds.size === 1 ? [...kinds][0]! : 'multiple';
    metricRootFieldOf.set(operation, label);
  }
  return label;
}

/** Why the first failed Graph call failed, when no answer came (a refused connection, a timeout). */
function failureOf(errors: ReadonlyArray<GraphQLError> | undefined): FailureCause | undefined {
  for (const error of errors ?? []) {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError && original.failure) return original.failure;
  }
  return undefined;
}

/**
 * Counts each GraphQL operation in `metrics` and writes one structured log line for it: its name, root field(s), result code,
 * Graph's last status, the number of Graph attempts (and of JSON batches among them, with their reads), latency, client-request-id, an uploaded
 * photo's format, sizes and processing time (never its content), the cause when Graph gave
 * no answer, and whether an upload's caller left before its answer. Nothing of the request's headers or variables is logged, so no
 * token can reach the log.
 */
export function operationLogPlugin(metrics: GatewayMetrics, logger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, operation, response, errors: originalErrors }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const firstCode = errors?.[0]?.extensions?.['code'];
          const cause = failureOf(originalErrors);
          const rootField = rootFields(operation);
          const code = errors?.length ? (typeof firstCode === 'string' ? firstCode : 'ERROR') : 'OK';
          metrics.operation(metricRootField(operation), code);
          logger.info(
            {
              reqId: contextValue.requestId,
              operationName: operationName ?? 'anonymous',
              rootField,
              code,
              httpStatus: response.http.status ?? 200,
              upstreamStatus: contextValue.stats.upstreamStatus,
              attempts: contextValue.stats.attempts,
              // Of those attempts, the JSON batches, and the reads they carried.
              ...(contextValue.stats.batches !== undefined && { graphBatches: contextValue.stats.batches, graphBatchItems: contextValue.stats.batchItems }),
              latencyMs: Math.round((performance.now() - started) * 100) / 100,
              clientRequestId: contextValue.clientRequestId,
              // With sign-in, who called: the user and tenant ids, never a token.
              ...(contextValue.signIn?.identity && { oid: contextValue.signIn.identity.oid, tid: contextValue.signIn.identity.tid }),
              ...(contextValue.stats.photo && { photo: contextValue.stats.photo }),
              ...(cause && { cause }),
              // The upload's caller went away before this answer (which nobody will read).
              ...(contextValue.upload?.signal.aborted && { callerLeft: true }),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
