import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Authenticate } from '../../auth/caller-authentication.js';
import { SignInRefusal } from '../../auth/sign-in-refusal.js';
import type { GatewayContext } from '../../schema/context.js';
import { ENTITIES_FIELD, GRAPH_CALLING_FIELDS, rootFieldNames } from '../../schema/operation-limits.js';

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

/** Whether the operation has a root field that calls Graph (through fragments too). */
function callsGraph(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  for (const name of rootFieldNames(operation, document)) if (GRAPH_CALLING_FIELDS.has(name) || name === ENTITIES_FIELD) return true;
  return false;
}
