/**
 * The kit's sign-in link: asks for a bearer token before each request, and answers a claims
 * challenge. Standalone (Apollo Client and rxjs only), so a page signing in with MSAL.js, or any
 * other library, gives it two functions:
 *
 * - `getToken()`: a token for the gateway's API, asked for each request (MSAL's
 *   `acquireTokenSilent`, which answers from its cache and renews a token about to expire);
 * - `onClaimsChallenge(claims)`: asked when the gateway answers 401 with `WWW-Authenticate: Bearer
 *   error="insufficient_claims", claims="..."` (Conditional Access asking the user for more, seen
 *   by the gateway's on-behalf-of exchange): a token that meets `claims` (the challenge as JSON),
 *   which usually needs the user (MSAL's `acquireTokenPopup` with `claims`). The request is then
 *   sent once more with that token; a second challenge is the caller's to see.
 */
import { ApolloLink, CombinedGraphQLErrors, ServerError } from '@apollo/client';
import { from, mergeMap, Observable, of, throwError, catchError } from 'rxjs';

export interface AuthLinkOptions {
  getToken: () => string | Promise<string>;
  onClaimsChallenge?: (claims: string) => string | Promise<string>;
}

export function createAuthLink({ getToken, onClaimsChallenge }: AuthLinkOptions): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const send = (token: string) => {
      operation.setContext(({ headers }: { headers?: Record<string, string> }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
      return forward(operation);
    };
    const retry = (claims: string) => from(Promise.resolve(onClaimsChallenge!(claims))).pipe(mergeMap(send));
    const first = from(Promise.resolve(getToken())).pipe(mergeMap(send));
    if (!onClaimsChallenge) return first;
    return first.pipe(
      mergeMap((result): Observable<ApolloLink.Result> => {
        const claims = claimsOfErrors(result.errors);
        return claims === undefined ? of(result) : retry(claims);
      }),
      catchError((error: unknown) => {
        const claims = claimsOfError(error);
        return claims === undefined ? throwError(() => error) : retry(claims);
      }),
    );
  });
}

/**
 * The claims challenge of a refusal the gateway answered as GraphQL (`application/graphql-response+json`,
 * which Apollo Client reads as a result whatever its status): `extensions.claims` of an
 * `UNAUTHENTICATED` error, the JSON Entra sent.
 */
function claimsOfErrors(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): string | undefined {
  const challenged = errors?.find((error) => error.extensions?.['code'] === 'UNAUTHENTICATED' && typeof error.extensions['claims'] === 'string');
  return challenged?.extensions?.['claims'] as string | undefined;
}

/** The same from an error: GraphQL errors, or a 401 `ServerError` by its `WWW-Authenticate` (the claims in base64). */
function claimsOfError(error: unknown): string | undefined {
  if (CombinedGraphQLErrors.is(error)) return claimsOfErrors(error.errors);
  if (!ServerError.is(error) || error.statusCode !== 401) return undefined;
  const challenge = /error="insufficient_claims"[^]*?claims="([^"]+)"/i.exec(error.response.headers.get('www-authenticate') ?? '');
  return challenge ? atob(challenge[1]!) : undefined;
}
