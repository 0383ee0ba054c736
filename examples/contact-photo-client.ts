/**
 * The frontend kit: a typed Apollo Client (v4, core: no React needed) for the gateway. The
 * documents are the `.graphql` files in `examples/operations/`, turned into TypedDocumentNodes
 * by codegen's client preset (`examples/generated/`, made by `npm run codegen`), so a misspelt
 * field or a wrong variable is a `tsc` error, not a runtime surprise.
 */
import { ApolloClient, CombinedGraphQLErrors, InMemoryCache, ServerError, type TypePolicies } from '@apollo/client';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import {
  ContactListDocument,
  ContactPhotoDocument,
  ContactPhotoListDocument,
  ContactPhotoThumbnailDocument,
  UpdateContactPhotoDocument,
  UploadContactPhotoDocument,
} from './generated/graphql.js';
import type { ContactListQuery, ProfilePhotoInput } from './generated/graphql.js';
import { createAuthLink } from './auth-link.js';

export { createAuthLink, type AuthLinkOptions } from './auth-link.js';

/**
 * `ProfilePhoto.id` is a size label (`240X240`, `1x1`) that many contacts share, so Apollo
 * Client's default key (`__typename` + `id`) would merge different contacts' photos into one
 * cache entry. A photo is identified by its invitation and contact.
 */
export const typePolicies: TypePolicies = {
  ProfilePhoto: { keyFields: ['invitationId', 'contactId'] },
  // A contact's id is unique within its mailbox only.
  Contact: { keyFields: ['invitationId', 'id'] },
  Query: {
    fields: {
      contacts: {
        // One list per invitation, whatever the page: `after` (and `first`) only say which part.
        keyArgs: ['invitationId'],
        // A page asked for with `after` (fetchMore, "Show more") is added after the pages held;
        // one without it (the first load, a refetch) replaces them.
        merge(existing: ContactConnection | undefined, incoming: ContactConnection, { args }) {
          if (!existing || !args?.['after']) return incoming;
          return { ...incoming, edges: [...existing.edges, ...incoming.edges] };
        },
      },
    },
  },
};

type ContactConnection = ContactListQuery['contacts'];

/**
 * The bearer token: a string, or a function asked before each request (MSAL's
 * `acquireTokenSilent`, which renews a token before it expires, about an hour with Entra).
 */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * A client for the gateway. Its link (`createAuthLink`, auth-link.ts) asks `token` for each
 * request, and with `onClaimsChallenge` answers a claims challenge and sends the request once
 * more; then apollo-upload-client's `UploadHttpLink` sends it: an ordinary HTTP link that sends a GraphQL
 * multipart request when the variables hold a `File` or `Blob`. `apollo-require-preflight` is
 * what the gateway (like Apollo Server) asks of a multipart request, so that a cross-site form
 * cannot send one.
 *
 * An auth failure arrives in one of two shapes (`isUnauthenticated` below tells either).
 */
export function createContactPhotoClient(options: { url: string; token: TokenSource; onClaimsChallenge?: (claims: string) => string | Promise<string> }): ApolloClient {
  const { token, onClaimsChallenge } = options;
  const pictures = pictureUrlsOn(options.url);
  const authorization = createAuthLink({ getToken: typeof token === 'string' ? () => token : token, ...(onClaimsChallenge && { onClaimsChallenge }) });
  const client = new ApolloClient({
    link: authorization.concat(new UploadHttpLink({ uri: options.url, headers: { 'apollo-require-preflight': 'true' } })),
    cache: new InMemoryCache({ typePolicies: { ...typePolicies, ProfilePhoto: { ...typePolicies['ProfilePhoto'], fields: { url: { read: pictures } } } } }),
  });
  gatewayUrls.set(client, options.url);
  return client;
}

/** The GraphQL URL each client was made for: picture URLs are relative to it. */
const gatewayUrls = new WeakMap<ApolloClient, string>();

/**
 * `ProfilePhoto.url` is relative to the gateway (`/photos/...`): made absolute on the gateway's
 * origin, so that an `<img src>` on a page of another origin loads it from the gateway.
 */
function pictureUrlsOn(gatewayUrl: string): (url: string | null | undefined) => string | null | undefined {
  return (url) => (url ? new URL(url, gatewayUrl).href : url);
}

/** Updates a contact's photo; the answer is typed from the document. */
export async function updateContactPhoto(client: ApolloClient, invitationId: string, contactId: string, input: ProfilePhotoInput) {
  const { data } = await client.mutate({ mutation: UpdateContactPhotoDocument, variables: { invitationId, contactId, input } });
  return data?.updateContactPhoto;
}

/** Reads a contact's photo (from the cache when it is there); `null` when the contact has none. */
export async function contactPhoto(client: ApolloClient, invitationId: string, contactId: string) {
  const { data } = await client.query({ query: ContactPhotoDocument, variables: { invitationId, contactId } });
  return data?.contactPhoto ?? null;
}

/**
 * Replaces a contact's picture with `file` (from an `<input type="file">`, a camera, a drop): any
 * JPEG, PNG, GIF, WebP, AVIF or HEIC; the gateway sends Graph a clean JPEG. Answers the photo's
 * metadata and a 96 px thumbnail.
 */
export async function uploadContactPhoto(client: ApolloClient, invitationId: string, contactId: string, file: File | Blob) {
  const { data } = await client.mutate({ mutation: UploadContactPhotoDocument, variables: { invitationId, contactId, file } });
  return data?.uploadContactPhoto;
}

/** A contact's picture as a `data:` URL for an `<img src>`, at most `size` pixels on its longer side; `null` without one. */
export async function contactPhotoThumbnail(client: ApolloClient, invitationId: string, contactId: string, size = 96) {
  const { data } = await client.query({ query: ContactPhotoThumbnailDocument, variables: { invitationId, contactId, size } });
  return data?.contactPhoto?.dataUrl ?? null;
}

/**
 * A contacts screen in one request: each contact's photo and the URL of its 48 px thumbnail
 * (absolute, on the gateway; the browser keeps the bytes), in the order of
 * `contactIds` (`null` for a contact without a photo). One contact's failed read does not fail
 * the list: `errorPolicy: 'all'` keeps the other entries, and `errors` says which entry failed
 * (`path: ['contactPhotos', index]`) and why (`extensions.code`).
 */
export async function contactPhotoList(client: ApolloClient, invitationId: string, contactIds: string[]) {
  const { data, error } = await client.query({ query: ContactPhotoListDocument, variables: { invitationId, contactIds }, errorPolicy: 'all' });
  return { photos: data?.contactPhotos ?? [], error };
}

/**
 * One page of an invitation's contacts, in `displayName` order, each with the URL of its 48 px
 * thumbnail (absolute, on the gateway):
 * `first` of them (1 to 100, 50 by default), after the cursor `after` (`pageInfo.endCursor` of the
 * page before). A failed list call is `error` with no page; one contact's failed photo read
 * leaves the others, `error` saying which (`path: ['contacts', 'edges', index, 'node', 'photo']`).
 * The page as Graph answered it, past the cache (whose type policy would answer every page held
 * so far): a screen that keeps the pages together uses `useQuery` and `fetchMore` instead.
 */
export async function contactList(client: ApolloClient, invitationId: string, page: { first?: number; after?: string } = {}) {
  const { data, error } = await client.query({ query: ContactListDocument, variables: { invitationId, ...page }, errorPolicy: 'all', fetchPolicy: 'no-cache' });
  // Past the cache, so past its type policy that makes picture URLs absolute: made so here.
  const gateway = gatewayUrls.get(client);
  const absolute = gateway ? pictureUrlsOn(gateway) : (url: string | null | undefined) => url;
  const contacts = data?.contacts && {
    ...data.contacts,
    edges: data.contacts.edges.map((edge) => ({ ...edge, node: { ...edge.node, photo: edge.node.photo && { ...edge.node.photo, thumbnail: absolute(edge.node.photo.thumbnail) ?? null } } })),
  };
  return { contacts: contacts ?? null, error };
}

/**
 * Whether an error from the client is an auth failure, to get a new token (or sign in again) on.
 * It comes in one of two shapes:
 * - `CombinedGraphQLErrors` with `extensions.code` `UNAUTHENTICATED`: Graph refused the token
 *   (passthrough, in a 200), and also the gateway's sign-in refusing a query or mutation (an
 *   HTTP 401, but sent as `application/graphql-response+json`, which Apollo Client 4 reads as a
 *   GraphQL answer whatever its status; `extensions.claims` then carries a claims challenge);
 * - `ServerError` with `statusCode` 401: a refusal made before GraphQL ran, sent as plain JSON
 *   (with sign-in, an upload refused from its headers); its body, in `bodyText`, carries the same
 *   `UNAUTHENTICATED` error.
 */
export function isUnauthenticated(error: unknown): boolean {
  if (CombinedGraphQLErrors.is(error)) return error.errors.some((each) => each.extensions?.['code'] === 'UNAUTHENTICATED');
  return ServerError.is(error) && error.statusCode === 401;
}
