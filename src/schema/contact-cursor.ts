/**
 * The cursor of `contacts`: opaque to callers, and carrying only what the gateway needs to ask
 * Graph for the next page. Base64url of `version:offset:mailbox`, where `offset` is the `$skip` of
 * the contact after the edge and `mailbox` a short hash of the invitation id (so a cursor made for
 * one invitation is refused for another, without the id itself in it). Never a URL: a caller can
 * make the gateway skip some contacts of a mailbox it may read anyway, nothing more.
 */
import { createHash } from 'node:crypto';
import { badUserInput, type GatewayError } from '../errors/gateway-error.js';

/** Bumped when the cursor's contents change: an older cursor is then refused, not misread. */
export const CURSOR_VERSION = 1;

/** Largest offset a cursor carries: Graph's `$skip` is an Int32, and a page is added to it. */
export const MAX_CURSOR_OFFSET = 2_000_000_000;

/** Longest cursor read at all: ours are under 40 characters. */
const MAX_CURSOR_LENGTH = 64;

const CURSOR_TEXT = /^(0|[1-9]\d{0,8}):(0|[1-9]\d{0,9}):([A-Za-z0-9_-]{11})$/;

/** 8 bytes of SHA-256 of the invitation id, base64url: enough to tell invitations apart, not to name one. */
function mailboxHash(invitationId: string): string {
  return createHash('sha256').update(invitationId).digest().subarray(0, 8).toString('base64url');
}

/** The cursor of the edge whose next contact is at `offset` in the invitation's list. */
export function encodeCursor(invitationId: string, offset: number): string {
  return Buffer.from(`${CURSOR_VERSION}:${offset}:${mailboxHash(invitationId)}`).toString('base64url');
}

/**
 * The offset (`$skip`) a cursor continues at, or the BAD_USER_INPUT (`argument: "after"`) it is
 * refused with: not one this gateway made (malformed, or not in its one canonical spelling), made
 * by another version, or made for another invitation.
 */
export function decodeCursor(invitationId: string, cursor: string): number | GatewayError {
  const notOurs = () => badUserInput('after', 'after is not a cursor of this list: pass back an edge’s cursor or pageInfo.endCursor as it was given.');
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return notOurs();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // One spelling only: trailing bits or padding variations would make two cursors of one offset.
  if (Buffer.from(text).toString('base64url') !== cursor) return notOurs();
  const match = CURSOR_TEXT.exec(text);
  if (!match) return notOurs();
  if (Number(match[1]) !== CURSOR_VERSION) {
    return badUserInput('after', 'after was made by another version of the gateway: list again from the first page (without after).');
  }
  const offset = Number(match[2]);
  if (offset > MAX_CURSOR_OFFSET) return notOurs();
  if (match[3] !== mailboxHash(invitationId)) {
    return badUserInput('after', 'after is a cursor of another invitation’s contacts: list this invitation from its first page (without after).');
  }
  return offset;
}
