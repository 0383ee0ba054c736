// No imports here: the tracing set-up uses this module before anything it instruments
// (graphql, http) may be loaded.

/** The path template of the metadata calls, for traces and logs: never the raw ids. */
export const CONTACT_PHOTO_ROUTE = '/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo';

/** The path template of the calls on the picture's bytes. */
export const CONTACT_PHOTO_VALUE_ROUTE = `${CONTACT_PHOTO_ROUTE}/$value`;

/** The path template of the contact list (its query options hold no ids, and are kept). */
export const CONTACT_LIST_ROUTE = '/invitations/{invitationId}/invitedUser/contacts';

/** A concrete contact-photo path (its ids percent-encoded, so without `/`, `?` or `#`). */
const CONTACT_PHOTO_PATH = /\/invitations\/[^/?#]+\/invitedUser\/contacts\/[^/?#]+\/photo/;

/** A concrete contact-list path: the contacts segment ends the path. */
const CONTACT_LIST_PATH = /\/invitations\/[^/?#]+\/invitedUser\/contacts(?=[?#]|$)/;

/** `path` with the ids of a contact-photo or contact-list path replaced by their template names. */
export function templatedPath(path: string): string {
  return path.replace(CONTACT_PHOTO_PATH, CONTACT_PHOTO_ROUTE).replace(CONTACT_LIST_PATH, CONTACT_LIST_ROUTE);
}
