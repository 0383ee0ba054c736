import { describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { contactPhotoPath } from '../../src/graph/contact-photo-path.js';
import { templatedPath } from '../../src/graph/contact-photo-route.js';

describe('contactPhotoPath', () => {
  it('builds the documented path', () => {
    expect(contactPhotoPath('inv-1', 'AAMkAGI2THVSAAA=')).toBe('/invitations/inv-1/invitedUser/contacts/AAMkAGI2THVSAAA%3D/photo');
  });

  it.each([
    ['a/b', 'a%2Fb'],
    ['a?b', 'a%3Fb'],
    ['a#b', 'a%23b'],
    ['a%2Fb', 'a%252Fb'],
    ['a+b=', 'a%2Bb%3D'],
    ['ünï 🙂', '%C3%BCn%C3%AF%20%F0%9F%99%82'],
    ['...', '...'],
  ])('encodes the id %j as the single segment %s', (id, segment) => {
    expect(contactPhotoPath('inv', id)).toBe(`/invitations/inv/invitedUser/contacts/${segment}/photo`);
  });

  it.each([
    ['', /must not be empty/],
    ['.', /must not be "\." or "\.\."/],
    ['..', /must not be "\." or "\.\."/],
    ['x'.repeat(1025), /at most 1024 characters/],
    ['a\nb', /control characters/],
    ['a\u0000b', /control characters/],
    ['a\u009fb', /control characters/],
  ])('refuses the id %j as BAD_USER_INPUT', (id, message) => {
    for (const [invitationId, contactId, argument] of [
      [id, 'c', 'invitationId'],
      ['i', id, 'contactId'],
    ] as const) {
      let thrown: unknown;
      try {
        contactPhotoPath(invitationId, contactId);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      const error = thrown as GatewayError;
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(error.message).toMatch(message);
    }
  });

  it('accepts an id of exactly 1024 characters', () => {
    expect(() => contactPhotoPath('i', 'x'.repeat(1024))).not.toThrow();
  });
});

describe('templatedPath', () => {
  it.each([
    ['/beta/invitations/inv%2F1/invitedUser/contacts/AAMk%3D/photo/$value', '/beta/invitations/{invitationId}/invitedUser/contacts/{contactId}/photo/$value'],
    ['/beta/invitations/inv%2F1/invitedUser/contacts?$select=id&$top=50&$skip=50', '/beta/invitations/{invitationId}/invitedUser/contacts?$select=id&$top=50&$skip=50'],
    ['/beta/invitations/inv-1/invitedUser/contacts', '/beta/invitations/{invitationId}/invitedUser/contacts'],
    ['/beta/$batch', '/beta/$batch'],
  ])('names %s by its template, without the ids', (path, templated) => {
    expect(templatedPath(path)).toBe(templated);
  });
});
