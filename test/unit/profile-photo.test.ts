import { describe, expect, it } from '@jest/globals';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { parseProfilePhoto } from '../../src/graph/profile-photo.js';

/** A 200 from Graph with `body` as its JSON text. */
const answer = (body: unknown) => ({ status: 200, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The message of the BAD_GATEWAY error `parseProfilePhoto` answers, or a failure when it answers a photo. */
function refusal(body: unknown): string {
  const result = parseProfilePhoto(answer(body));
  if (!(result instanceof GatewayError)) throw new Error(`Expected an error, got ${JSON.stringify(result)}`);
  expect(result.extensions['code']).toBe('BAD_GATEWAY');
  return result.message;
}

describe('parseProfilePhoto', () => {
  it("reads Graph's photo with its media ETag, and drops its other OData annotations", () => {
    const photo = parseProfilePhoto(
      answer({ '@odata.context': 'https://graph/$metadata#photo', '@odata.mediaEtag': '"e"', id: '240X240', height: 240, width: 240 }),
    );
    expect(photo).toEqual({ id: '240X240', height: 240, width: 240, mediaEtag: '"e"' });
  });

  it('answers absent or null sizes as null', () => {
    expect(parseProfilePhoto(answer({ id: '1x1' }))).toEqual({ id: '1x1', height: null, width: null });
    expect(parseProfilePhoto(answer({ id: '1x1', height: null, width: null }))).toEqual({ id: '1x1', height: null, width: null });
  });

  it('accepts a size of 0 and the Int32 bounds', () => {
    expect(parseProfilePhoto(answer({ id: 'a', height: 0, width: 2 ** 31 - 1 }))).toEqual({ id: 'a', height: 0, width: 2 ** 31 - 1 });
    expect(parseProfilePhoto(answer({ id: 'a', height: -(2 ** 31), width: 0 }))).toEqual({ id: 'a', height: -(2 ** 31), width: 0 });
  });

  it.each([
    ['no id', { height: 1, width: 1 }],
    ['an empty-string id', { id: '', height: 1, width: 1 }],
    ['a numeric id', { id: 42, height: 1, width: 1 }],
  ])('refuses a photo with %s', (_case, body) => {
    expect(refusal(body)).toBe('Microsoft Graph answered 200 with a photo without an id.');
  });

  it.each([
    ['a fractional height', { id: 'a', height: 1.5, width: 1 }],
    ['a fractional width', { id: 'a', height: 1, width: 0.5 }],
    ['a string height', { id: 'a', height: '1', width: 1 }],
    ['a width over 2^31-1', { id: 'a', height: 1, width: 2 ** 31 }],
    ['a height under -2^31', { id: 'a', height: -(2 ** 31) - 1, width: 1 }],
  ])('refuses a photo with %s', (_case, body) => {
    expect(refusal(body)).toBe('Microsoft Graph answered 200 with a photo whose height or width is not a 32-bit integer.');
  });

  it.each([
    ['an empty body', '', 'an empty body'],
    ['text that is not JSON', 'nope', 'a body that is not JSON'],
    ['a JSON array', '[1]', 'JSON that is not an object'],
    ['JSON null', 'null', 'JSON that is not an object'],
  ])('refuses %s', (_case, body, problem) => {
    expect(refusal(body)).toBe(`Microsoft Graph answered 200 with ${problem}.`);
  });
});
