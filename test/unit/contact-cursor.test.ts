import { describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { CURSOR_VERSION, MAX_CURSOR_OFFSET, decodeCursor, encodeCursor } from '../../src/schema/contact-cursor.js';

const b64 = (text: string) => Buffer.from(text).toString('base64url');

function refusal(result: number | GatewayError): GatewayError {
  expect(result).toBeInstanceOf(GatewayError);
  const error = result as GatewayError;
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  return error;
}

describe('the contacts cursor', () => {
  it.each([0, 1, 50, 12_345, MAX_CURSOR_OFFSET])('gives back the offset %i it was made with, for the same invitation', (offset) => {
    expect(decodeCursor('inv-1', encodeCursor('inv-1', offset))).toBe(offset);
  });

  it('is opaque base64url holding neither the invitation id nor a URL', () => {
    const cursor = encodeCursor('an-invitation-id', 50);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const text = Buffer.from(cursor, 'base64url').toString();
    expect(text).not.toContain('an-invitation-id');
    expect(text).toMatch(new RegExp(`^${CURSOR_VERSION}:50:[A-Za-z0-9_-]{11}$`));
  });

  it('refuses a cursor made for another invitation (stale)', () => {
    expect(refusal(decodeCursor('inv-2', encodeCursor('inv-1', 50))).message).toMatch(/another invitation/);
  });

  it('refuses a cursor of another version', () => {
    const hash = Buffer.from(encodeCursor('inv', 0), 'base64url').toString().split(':')[2]!;
    expect(refusal(decodeCursor('inv', b64(`2:50:${hash}`))).message).toMatch(/another version/);
  });

  it.each([
    ['an empty string', ''],
    ['a URL', 'https://graph.microsoft.com/beta/invitations/x/invitedUser/contacts?$skip=50'],
    ['a URL in base64url', b64('https://evil.example/contacts?$skip=50')],
    ['standard base64 with padding', Buffer.from('1:50:AAAAAAAAAAA').toString('base64')],
    ['a negative offset', b64('1:-5:AAAAAAAAAAA')],
    ['an offset with a leading zero', b64('1:050:AAAAAAAAAAA')],
    ['an offset past the bound', b64(`1:${MAX_CURSOR_OFFSET + 1}:AAAAAAAAAAA`)],
    ['a missing hash', b64('1:50')],
    ['something too long', 'A'.repeat(65)],
  ])('refuses %s as not one of its cursors', (_case, cursor) => {
    expect(refusal(decodeCursor('inv', cursor)).message).toMatch(/not a cursor of this list/);
  });

  it('refuses a second spelling of one of its cursors (trailing bits changed)', () => {
    const cursor = encodeCursor('inv', 10);
    const last = cursor.at(-1)!;
    // Base64url's last character carries bits past the end of the bytes unless its length is a multiple of 4.
    expect(cursor.length % 4).not.toBe(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = cursor.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]!;
    expect(Buffer.from(sibling, 'base64url')).toEqual(Buffer.from(cursor, 'base64url'));
    refusal(decodeCursor('inv', sibling));
  });
});
