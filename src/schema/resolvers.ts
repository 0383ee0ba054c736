import { missingToken, badUserInput } from '../errors/gateway-error.js';
import type { GraphCallContext } from '../graph/graph-client.js';
import type { ProfilePhotoPatch } from '../graph/types.js';
import type { ProfilePhotoInput, Resolvers } from '../generated/graphql.js';
import type { GatewayContext } from './context.js';
import { photoDataUrl, uploadContactPhoto } from './photo-fields.js';
import { UploadScalar } from './upload.js';

/** The caller's token is needed only for fields that call Graph, so introspection works without one. */
export function graphCall(context: GatewayContext): GraphCallContext {
  if (context.authorization === undefined) throw missingToken();
  return { authorization: context.authorization, clientRequestId: context.clientRequestId, stats: context.stats };
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
    contactPhoto: (_parent, { invitationId, contactId }, context) =>
      context.graph
        .getContactPhoto(invitationId, contactId, graphCall(context))
        .then((photo) => photo && { invitationId, contactId, ...photo }),
  },
  Mutation: {
    updateContactPhoto: (_parent, { invitationId, contactId, input }, context) => {
      const call = graphCall(context);
      return context.graph
        .updateContactPhoto(invitationId, contactId, toPatch(input), call)
        .then((photo) => ({ invitationId, contactId, ...photo }));
    },
    uploadContactPhoto: (_parent, { invitationId, contactId, file }, context) => {
      const call = graphCall(context);
      return uploadContactPhoto(invitationId, contactId, file, context, call).then((photo) => ({ invitationId, contactId, ...photo }));
    },
  },
  ProfilePhoto: {
    dataUrl: (photo, { size }, context) => photoDataUrl(photo, size, context, () => graphCall(context)),
  },
};
