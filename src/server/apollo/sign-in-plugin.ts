import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Authenticate } from '../../auth/caller-authentication.js';
import { SignInRefusal } from '../../auth/sign-in-refusal.js';
import type { GatewayContext } from '../../schema/context.js';
import { ENTITIES_FIELD, fragmentsOf, GRAPH_CALLING_FIELDS, sumRootFields } from '../../schema/operation-limits.js';

/**
 * Sign-in (`AUTH_MODE=obo`): an operation that calls Graph runs only for a caller whose token
 * the verifier accepts, checked once the operation is known and before any resolver runs, so a
 * refused token costs no token exchange and no Graph call. Introspection and `__typename` need
 * no token, as in passthrough mode. Refusals are HTTP errors with RFC 6750's `WWW-Authenticate`
 * (see `SignInRefusal`).
 */
export function signInPlugin(authenticate: Authenticate): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document }) {
          if (!operation || !callsGraph(operation, document) || !contextValue.signIn) return;
          try {
            contextValue.signIn.identity = await authenticate(contextValue.authorization);
          } catch (error) {
            throw error instanceof SignInRefusal ? error.toGraphQLError() : error;
          }
        },
      };
    },
  };
}

const callsGraphByOperation = new WeakMap<OperationDefinitionNode, boolean>();

/** Whether the operation has a root field that calls Graph (through fragments too); known once per document. */
function callsGraph(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  let calls = callsGraphByOperation.get(operation);
  if (calls === undefined) {
    const fragments = fragmentsOf(document);
    calls = sumRootFields(operation.selectionSet, (name) => fragments.get(name), (field) => (GRAPH_CALLING_FIELDS.has(field.name.value) || field.name.value === ENTITIES_FIELD ? 1 : 0)) > 0;
    callsGraphByOperation.set(operation, calls);
  }
  return calls;
}
