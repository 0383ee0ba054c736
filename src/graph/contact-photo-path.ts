import { badUserInput } from '../errors/gateway-error.js';

/** Longest id accepted. Outlook ids are around 150 characters; this leaves room for any other. */
export const MAX_ID_LENGTH = 1024;

// C0 and C1 control characters, and DEL. Nothing Graph issues contains them.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

// A surrogate half without its other half: not well-formed UTF-16, so not encodable into a URL
// (encodeURIComponent throws). JSON lets a caller send one ("\ud800").
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks an id the caller gave before it goes into a Graph URL. Ids are opaque to the gateway
 * (Outlook ids contain `/`, `+` and `=`), so only what can never be a real id, or could change
 * the meaning of the path, is refused.
 *
 * @throws GatewayError with code BAD_USER_INPUT naming the argument.
 */
export function assertValidId(argument: string, id: string): void {
  if (id.length === 0) throw badUserInput(argument, `${argument} must not be empty.`);
  if (id === '.' || id === '..') throw badUserInput(argument, `${argument} must not be "." or "..".`);
  if (id.length > MAX_ID_LENGTH) {
    throw badUserInput(argument, `${argument} must be at most ${MAX_ID_LENGTH} characters long.`);
  }
  if (CONTROL_CHARACTER.test(id)) {
    throw badUserInput(argument, `${argument} must not contain control characters.`);
  }
  if (LONE_SURROGATE.test(id)) {
    throw badUserInput(argument, `${argument} must be well-formed Unicode (it has half of a surrogate pair).`);
  }
}

/**
 * The path, below the Graph base URL, of a contact's photo. Each id is percent-encoded as one
 * path segment, so `/`, `?`, `#` and `%` in an id stay inside it.
 */
export function contactPhotoPath(invitationId: string, contactId: string): string {
  assertValidId('invitationId', invitationId);
  assertValidId('contactId', contactId);
  return `/invitations/${encodeURIComponent(invitationId)}/invitedUser/contacts/${encodeURIComponent(contactId)}/photo`;
}

/** The path of a contact's picture itself (`.../photo/$value`), ids checked and encoded as above. */
export function contactPhotoValuePath(invitationId: string, contactId: string): string {
  return `${contactPhotoPath(invitationId, contactId)}/$value`;
}
