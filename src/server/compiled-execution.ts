import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { execute, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Logger } from 'pino';

type ExecutorInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<ExecutorInterface['load']>>['executor']>;

/**
 * How many times graphql-js runs a document before it is compiled: once, so that a document
 * sent only once (which any client may vary at will) never costs a compilation.
 */
const COMPILE_AFTER_RUNS = 1;

/** Where a document stands: how many times graphql-js has run it, or its compiled form. */
type DocumentState = { runs: number } | { compiled: ReadonlyMap<string | null, CompiledQuery | null> };

/**
 * Apollo Server's executor interface (its `gateway` option, the only one Apollo Server 5 has) with
 * graphql-jit behind it: an operation that comes back is compiled once into plain JavaScript and
 * run as such from then on, instead of graphql-js walking the document on every request.
 *
 * - **What is compiled.** A document that has already run once. Apollo's
 *   document store hands back the same parsed document for the same text (and trusted and
 *   persisted documents always come from it), so a frontend's operations are compiled on their
 *   second call, while a document sent once, which a client may vary at will, costs a compilation
 *   (about a millisecond) never. The compiled code is kept with the document (a `WeakMap`), and
 *   goes when Apollo's store evicts it.
 * - **What graphql-js still does.** Parsing and validation stay Apollo's. A document graphql-jit
 *   cannot compile runs on graphql-js, as do variables graphql-jit refuses: graphql-js then says
 *   why in its own words, which Apollo reads to answer 400 `BAD_USER_INPUT`.
 * - **When not to.** Plugins with a `willResolveField` hook (Federation's inline traces, GraphOS
 *   usage reporting) wrap the schema's resolvers per request after compiled code has captured
 *   them: the gateway leaves the executor out in those modes (see gateway.ts).
 */
export function compiledExecution(schema: GraphQLSchema, logger: Logger): ExecutorInterface {
  const documents = new WeakMap<DocumentNode, DocumentState>();

  const executor: Executor = async ({ document, operationName, request, context }) => {
    const runWithGraphqlJs = (): Promise<ExecutionResult> | ExecutionResult =>
      execute({ schema, document, operationName, variableValues: request.variables, contextValue: context });
    let state = documents.get(document);
    if (state === undefined || 'runs' in state) {
      const runs = state?.runs ?? 0;
      if (runs < COMPILE_AFTER_RUNS) {
        documents.set(document, { runs: runs + 1 });
        return runWithGraphqlJs();
      }
      state = { compiled: new Map() };
      documents.set(document, state);
    }
    const compiled = state.compiled as Map<string | null, CompiledQuery | null>;
    let query = compiled.get(operationName);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
      compiled.set(operationName, query);
      if (isCompiledQuery(result)) logger.debug({ operationName }, 'operation compiled');
      else logger.debug({ operationName, reason: result.errors?.[0]?.message }, 'operation not compiled: it runs on graphql-js');
    }
    if (query === null) return runWithGraphqlJs();
    const result = await query.query(undefined, context, request.variables ?? {});
    // No data at all: the variables were refused before anything ran.
    if (result.errors?.length && result.data === undefined) return runWithGraphqlJs();
    return result;
  };

  return {
    // Apollo asks for the schema first, then for the executor.
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    load: () => Promise.resolve({ executor }),
    stop: () => Promise.resolve(),
  };
}
