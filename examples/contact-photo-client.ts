/**
 * The frontend kit: a typed Apollo Client (v4, core: no React needed) for the gateway. The
 * documents are the `.graphql` files in `examples/operations/`, turned into TypedDocumentNodes
 * by codegen's client preset (`examples/generated/`, made by `npm run codegen`), so a misspelt
 * field or a wrong variable is a `tsc` error, not a runtime surprise.
 */
import { ApolloClient, InMemoryCache, type TypePolicies } from '@apollo/client';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import {
  ContactPhotoDocument,
  ContactPhotoListDocument,
  ContactPhotoThumbnailDocument,
  UpdateContactPhotoDocument,
  UploadContactPhotoDocument,
} from './generated/graphql.js';
import type { ProfilePhotoInput } from './generated/graphql.js';

/**
 * `ProfilePhoto.id` is a size label (`240X240`, `1x1`) that many contacts share, so Apollo
 * Client's default key (`__typename` + `id`) would merge different contacts' photos into one
 * cache entry. A photo is identified by its invitation and contact.
 */
export const typePolicies: TypePolicies = {
  ProfilePhoto: { keyFields: ['invitationId', 'contactId'] },
};

/**
 * A client for the gateway. Its link is apollo-upload-client's `UploadHttpLink`: an ordinary
 * HTTP link that sends a GraphQL multipart request when the variables hold a `File` or `Blob`.
 * `apollo-require-preflight` is what the gateway (like Apollo Server) asks of a multipart
 * request, so that a cross-site form cannot send one.
 */
export function createContactPhotoClient(options: { url: string; token: string }): ApolloClient {
  return new ApolloClient({
    link: new UploadHttpLink({
      uri: options.url,
      headers: { authorization: `Bearer ${options.token}`, 'apollo-require-preflight': 'true' },
    }),
    cache: new InMemoryCache({ typePolicies }),
  });
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
 * A contacts screen in one request: each contact's photo and 48 px thumbnail, in the order of
 * `contactIds` (`null` for a contact without a photo). One contact's failed read does not fail
 * the list: `errorPolicy: 'all'` keeps the other entries, and `errors` says which entry failed
 * (`path: ['contactPhotos', index]`) and why (`extensions.code`).
 */
export async function contactPhotoList(client: ApolloClient, invitationId: string, contactIds: string[]) {
  const { data, error } = await client.query({ query: ContactPhotoListDocument, variables: { invitationId, contactIds }, errorPolicy: 'all' });
  return { photos: data?.contactPhotos ?? [], error };
}
