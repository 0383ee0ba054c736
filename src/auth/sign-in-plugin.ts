import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { GatewayErrorCode } from '../errors/codes.js';
import { ENTITIES_FIELD, fragmentsOf, GRAPH_CALLING_FIELDS, sumRootFields } from '../schema/operation-limits.js';
import type { GatewayContext } from '../schema/context.js';
import { AccessTokenRefusal, SigningKeysUnavailableError, type AccessTokenVerifier } from './access-token-verifier.js';

/**
 * Sign-in (`AUTH_MODE=obo`): an operation that calls Graph runs only for a caller whose token
 * the verifier accepts, checked once the operation is known and before any resolver runs, so a
 * refused token costs no token exchange and no Graph call. Introspection and `__typename` need
 * no token, as in passthrough mode. Refusals are HTTP errors with RFC 6750's `WWW-Authenticate`:
 * 401 `Bearer` without a token, 401 `Bearer error="invalid_token"` for a bad one, 403
 * `Bearer error="insufficient_scope", scope="..."` for one without the scope.
 */
export function signInPlugin(verifier: AccessTokenVerifier, requiredScope: string): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document }) {
          if (!operation || !callsGraph(operation, document) || !contextValue.signIn) return;
          const header = contextValue.authorization;
          if (header === undefined) {
            throw refusal(401, GatewayErrorCode.UNAUTHENTICATED, 'Send an access token for the gateway’s API as an `Authorization: Bearer <token>` header.', 'Bearer');
          }
          try {
            contextValue.signIn.identity = await verifier.verify(header.replace(/^Bearer +/i, ''));
          } catch (error) {
            if (error instanceof SigningKeysUnavailableError) {
              // The token may be good: its key cannot be read (start-up, or the identity provider failing since).
              throw refusal(503, GatewayErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway cannot check access tokens now; retry shortly.', undefined, error.retryAfterS);
            }
            if (!(error instanceof AccessTokenRefusal)) throw error;
            if (error.reason === 'insufficient_scope') {
              throw refusal(403, GatewayErrorCode.FORBIDDEN, error.message, `Bearer error="insufficient_scope", scope="${requiredScope}"`);
            }
            throw refusal(401, GatewayErrorCode.UNAUTHENTICATED, error.message, 'Bearer error="invalid_token"');
          }
        },
      };
    },
  };
}

function refusal(status: number, code: GatewayErrorCode, message: string, challenge: string | undefined, retryAfterS?: number): GraphQLError {
  const headers = new HeaderMap();
  if (challenge !== undefined) headers.set('www-authenticate', challenge);
  if (retryAfterS !== undefined) headers.set('retry-after', String(retryAfterS));
  return new GraphQLError(message, {
    extensions: { code, ...(retryAfterS !== undefined && { retryAfter: retryAfterS }), http: { status, headers } },
  });
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
