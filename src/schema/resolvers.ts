import { missingToken, badUserInput } from '../errors/gateway-error.js';
import { assertValidId } from '../graph/contact-photo-path.js';
import type { GraphCallContext } from '../graph/graph-client.js';
import type { GraphProfilePhoto, ProfilePhotoPatch } from '../graph/types.js';
import type { ProfilePhoto, ProfilePhotoInput, Resolvers } from '../generated/graphql.js';
import { contactsPage, photoFromPicture, selectsPictureOnly } from './contacts.js';
import type { GatewayContext } from './context.js';
import { photoDataUrl, photoUrl, uploadContactPhoto } from './photo-fields.js';
import { PhotoReads, selectsDataUrl, type PictureUse } from './photo-reads.js';
import { UploadScalar } from './upload.js';

/**
 * The caller's credentials for a Graph call, needed only by fields that call Graph (so
 * introspection works without a token): the caller's own token (passthrough), or, with sign-in,
 * the Graph token exchanged on behalf of the caller the sign-in plugin checked.
 */
export function graphCall(context: GatewayContext): GraphCallContext {
  const { signIn, clientRequestId, stats } = context;
  if (signIn) {
    const { identity, exchange } = signIn;
    if (!identity) throw missingToken();
    const user = { oid: identity.oid, tid: identity.tid };
    return { caller: `${identity.tid}/${identity.oid}`, graphAuthorization: () => exchange.graphAuthorization(identity), user, clientRequestId, stats };
  }
  if (context.authorization === undefined) throw missingToken();
  return { caller: context.authorization, graphAuthorization: context.authorization, clientRequestId, stats };
}

/** The request's photo reads, made on first use (a request that reads no photo makes none). */
export function photoReads(context: GatewayContext): PhotoReads {
  return (context.photoReads ??= new PhotoReads(context.graph, () => graphCall(context), context.photos.concurrency, context.dataUrlBudgetBytes, context.photoCache));
}

/**
 * A contact's photo read for a field: ids checked first (BAD_USER_INPUT, no Graph call), the
 * picture asked for in the same round when the field selects `dataUrl` (a full-size one within
 * the operation's budget).
 */
export function readPhoto(
  context: GatewayContext,
  invitationId: string,
  contactId: string,
  picture: PictureUse,
): Promise<({ invitationId: string; contactId: string } & GraphProfilePhoto) | null> {
  const reads = photoReads(context);
  if (picture === 'fullSize') reads.prefetchFullSize(invitationId, contactId);
  else if (picture === 'thumbnail') reads.prefetchValue(invitationId, contactId);
  return reads.metadata(invitationId, contactId).then((photo) => photo && { invitationId, contactId, ...photo });
}

/** Keeps absent fields absent and `null` as `null`: Graph's PATCH changes only what it is sent. */
function toPatch(input: ProfilePhotoInput): ProfilePhotoPatch {
  const patch: ProfilePhotoPatch = {};
  for (const field of ['height', 'width'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (value !== null && value < 0) throw badUserInput(`input.${field}`, `input.${field} must not be negative.`);
    patch[field] = value;
  }
  return patch;
}

export const resolvers: Resolvers<GatewayContext> = {
  Upload: UploadScalar,
  Query: {
    contactPhoto: (_parent, { invitationId, contactId }, context, info) => {
      graphCall(context);
      assertValidId('invitationId', invitationId);
      assertValidId('contactId', contactId);
      return readPhoto(context, invitationId, contactId, selectsDataUrl(info));
    },
    contactPhotos: (_parent, { invitationId, contactIds }, context, info) => {
      graphCall(context);
      assertValidId('invitationId', invitationId);
      for (const contactId of contactIds) assertValidId('contactIds', contactId);
      const picture = selectsDataUrl(info);
      // A promise per entry: one failed read nulls its own entry (an error at its index), not the
      // list. graphql-js takes a promise of null for a nullable entry; codegen's types have no
      // slot for one (a list entry is `T | Promise<T> | null`), hence the cast.
      return contactIds.map((contactId) => readPhoto(context, invitationId, contactId, picture)) as unknown as Promise<ProfilePhoto>[];
    },
    contacts: (_parent, args, context) => contactsPage(args, context.graph, graphCall(context), context.contactLists),
  },
  Contact: {
    photo: (contact, _args, context, info) => {
      const picture = selectsDataUrl(info);
      // Thumbnails and nothing the metadata answers: the picture alone (one read, not two).
      // A full-size dataUrl keeps the metadata read, its picture held to the operation's budget.
      if (picture === 'thumbnail' && selectsPictureOnly(info)) {
        // The fields selected (dataUrl, the ids) are all there; codegen's type wants the metadata's too.
        return photoFromPicture(photoReads(context), contact.invitationId, contact.id) as Promise<ProfilePhoto | null>;
      }
      return readPhoto(context, contact.invitationId, contact.id, picture);
    },
  },
  Mutation: {
    updateContactPhoto: (_parent, { invitationId, contactId, input }, context) => {
      const call = graphCall(context);
      // Every caller's cached reads of the contact go stale once Graph has the change (or may have it).
      return context.graph
        .updateContactPhoto(invitationId, contactId, toPatch(input), call)
        .finally(() => context.photoCache?.changed(invitationId, contactId))
        .then((photo) => ({ invitationId, contactId, ...photo }));
    },
    uploadContactPhoto: (_parent, { invitationId, contactId, file }, context) => {
      const call = graphCall(context);
      return uploadContactPhoto(invitationId, contactId, file, context, call).then((photo) => ({ invitationId, contactId, ...photo }));
    },
  },
  ProfilePhoto: {
    dataUrl: (photo, { size }, context) => photoDataUrl(photo, size, context, photoReads),
    url: (photo, { size }, context) => photoUrl(photo, size, context, photoReads),
  },
};
