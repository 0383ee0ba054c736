import { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { Kind, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import type { Logger } from 'pino';
import { GatewayErrorCode } from '../../errors/codes.js';
import { GatewayError, type FailureCause } from '../../errors/gateway-error.js';
import type { GatewayMetrics } from '../../metrics/metrics.js';
import type { GatewayContext } from '../../schema/context.js';
import { ENTITIES_FIELD, GRAPH_CALLING_FIELDS, sumRootFields } from '../../schema/operation-limits.js';

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

/** An operation's log line as the plugin made it, written once its answer has been sent. */
interface PendingLine {
  fields: Record<string, unknown>;
  /** The result code from the operation's answer (`OK` or the first error's). */
  code: string;
  /** The status Apollo gave the answer; the one sent can differ (see `OperationLog`). */
  status: number;
  metricRootField: string;
  started: number;
}

/**
 * Counts each GraphQL operation in `metrics` and writes one structured log line for it: its name, root field(s), result code,
 * the HTTP status sent, Graph's last status, the number of Graph attempts (and of JSON batches among them, with their reads), the photo reads the photo cache answered, latency, client-request-id, an uploaded
 * photo's format, sizes and processing time (never its content), the cause when Graph gave
 * no answer, and whether an upload's caller left before its answer. Nothing of the request's headers or variables is logged, so no
 * token can reach the log.
 *
 * The line is made at Apollo's `willSendResponse` and written once the answer has gone (its
 * `close`), with the status actually sent: after `willSendResponse`, Apollo can
 * still replace the answer (a result that does not serialize is a 500, an `Accept` it cannot
 * answer a 406), which the line used to log as 200.
 */
export class OperationLog {
  readonly #metrics: GatewayMetrics;
  readonly #logger: Logger;

  constructor(metrics: GatewayMetrics, logger: Logger) {
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** The Apollo plugin that makes each operation's line. */
  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      requestDidStart: async () => {
        const started = performance.now();
        return {
          willSendResponse: async ({ contextValue, operationName, operation, response, errors: originalErrors }) => {
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            const firstCode = errors?.[0]?.extensions?.['code'];
            const cause = failureOf(originalErrors);
            const line: PendingLine = {
              code: errors?.length ? (typeof firstCode === 'string' ? firstCode : 'ERROR') : 'OK',
              status: response.http.status ?? 200,
              metricRootField: metricRootField(operation),
              started,
              fields: {
                reqId: contextValue.requestId,
                operationName: operationName ?? 'anonymous',
                rootField: rootFields(operation),
                upstreamStatus: contextValue.stats.upstreamStatus,
                attempts: contextValue.stats.attempts,
                // Of those attempts, the JSON batches, and the reads they carried.
                ...(contextValue.stats.batches !== undefined && { graphBatches: contextValue.stats.batches, graphBatchItems: contextValue.stats.batchItems }),
                // Photo reads (metadata, pictures, thumbnails) the photo cache answered without Graph.
                ...(contextValue.stats.cachedReads !== undefined && { photoCacheReads: contextValue.stats.cachedReads }),
                clientRequestId: contextValue.clientRequestId,
                // With sign-in, who called: the user and tenant ids, never a token.
                ...(contextValue.signIn?.identity && { oid: contextValue.signIn.identity.oid, tid: contextValue.signIn.identity.tid }),
                ...(contextValue.stats.photo && { photo: contextValue.stats.photo }),
                ...(cause && { cause }),
                // The upload's caller went away before this answer (which nobody will read).
                ...(contextValue.upload?.signal.aborted && { callerLeft: true }),
              },
            };
            const { exchange } = contextValue;
            // Node says 'close' of every answer, sent in full or not (a caller who left): one
            // listener per operation, where Fastify's end-of-answer hook misses the latter. An
            // answer closed already (its caller left) and an operation run in-process (no HTTP
            // answer) are written now, with Apollo's status.
            if (exchange instanceof ServerResponse && !exchange.closed) exchange.once('close', () => this.write(line, exchange.statusCode));
            else this.write(line, line.status);
          },
        };
      },
    };
  }

  private write(line: PendingLine, status: number): void {
    const code = status === line.status ? line.code : replacedCode(status, line.code);
    this.#metrics.operation(line.metricRootField, code);
    // The line's own object completed in place: a copy of its ten fields per operation showed in
    // the CPU profile (the properties still come last, in this order).
    const { fields } = line;
    fields['code'] = code;
    fields['httpStatus'] = status;
    fields['latencyMs'] = Math.round((performance.now() - line.started) * 100) / 100;
    this.#logger.info(fields, 'graphql operation');
  }
}

/**
 * The code of an answer Apollo replaced after the operation (the status sent differs from the
 * operation's): Apollo's own codes for what it answers then, a 5xx being a failure to write the
 * result (INTERNAL_SERVER_ERROR) and a 4xx a request whose answer it cannot give (BAD_REQUEST).
 */
function replacedCode(status: number, code: string): string {
  if (status >= 500) return GatewayErrorCode.INTERNAL_SERVER_ERROR;
  return status >= 400 ? GatewayErrorCode.BAD_REQUEST : code;
}
