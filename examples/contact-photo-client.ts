/**
 * The frontend kit: a typed Apollo Client (v4, core: no React needed) for the gateway. The
 * documents are the `.graphql` files in `examples/operations/`, turned into TypedDocumentNodes
 * by codegen's client preset (`examples/generated/`, made by `npm run codegen`), so a misspelt
 * field or a wrong variable is a `tsc` error, not a runtime surprise.
 */
import { ApolloClient, HttpLink, InMemoryCache, type TypePolicies } from '@apollo/client';
import { ContactPhotoDocument, UpdateContactPhotoDocument } from './generated/graphql.js';
import type { ProfilePhotoInput } from './generated/graphql.js';

/**
 * `ProfilePhoto.id` is a size label (`240X240`, `1x1`) that many contacts share, so Apollo
 * Client's default key (`__typename` + `id`) would merge different contacts' photos into one
 * cache entry. A photo is identified by its invitation and contact.
 */
export const typePolicies: TypePolicies = {
  ProfilePhoto: { keyFields: ['invitationId', 'contactId'] },
};

export function createContactPhotoClient(options: { url: string; token: string }): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({ uri: options.url, headers: { authorization: `Bearer ${options.token}` } }),
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
