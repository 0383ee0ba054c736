// No imports here: the tracing set-up uses this module before anything it instruments
// (graphql, http) may be loaded.

/** The path template of the metadata calls, for traces and logs: never the raw ids. */
export const CONTACT_PHOTO_ROUTE = '/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo';

/** The path template of the calls on the picture's bytes. */
export const CONTACT_PHOTO_VALUE_ROUTE = `${CONTACT_PHOTO_ROUTE}/$value`;

/** A concrete contact-photo path (its ids percent-encoded, so without `/`, `?` or `#`). */
const CONTACT_PHOTO_PATH = /\/invitations\/[^/?#]+\/invitedUser\/contacts\/[^/?#]+\/photo/;

/** `path` with the ids of a contact-photo path replaced by their template names. */
export function templatedPath(path: string): string {
  return path.replace(CONTACT_PHOTO_PATH, CONTACT_PHOTO_ROUTE);
}
