import { describe, expect, it } from '@jest/globals';
import { failureCause, redactTokens } from '../../src/errors/gateway-error.js';

describe('redactTokens', () => {
  it.each([
    ['Authorization: Bearer eyJ0eXAi.eyJhdWQi.sig-_=', 'Authorization: Bearer [redacted]'],
    ['{"authorization":"bearer abc123"}', '{"authorization":"bearer [redacted]"}'],
    ["headers: { authorization: 'Bearer x' }, next", "headers: { authorization: 'Bearer [redacted]' }, next"],
    ['two: Bearer a, Bearer b', 'two: Bearer [redacted], Bearer [redacted]'],
  ])('replaces the token in %j', (text, redacted) => {
    expect(redactTokens(text)).toBe(redacted);
  });

  it('leaves text without a bearer token alone', () => {
    expect(redactTokens('connect ECONNREFUSED 127.0.0.1:443')).toBe('connect ECONNREFUSED 127.0.0.1:443');
  });
});

describe('failureCause', () => {
  it('keeps name, code and the redacted message, and nothing else of the error', () => {
    const error = Object.assign(new Error('rejected Bearer s3cret'), { code: 'E_TEST', options: { headers: { authorization: 'Bearer s3cret' } } });

    expect(failureCause(error)).toEqual({ name: 'Error', code: 'E_TEST', message: 'rejected Bearer [redacted]' });
  });
});
