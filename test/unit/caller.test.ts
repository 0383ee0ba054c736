import { describe, expect, it } from '@jest/globals';
import { bearerAuthorization, clientRequestId } from '../../src/server/http/caller.js';

describe('bearerAuthorization', () => {
  it('forwards a bearer header unchanged', () => {
    expect(bearerAuthorization('Bearer eyJ0eXAi.abc.def')).toBe('Bearer eyJ0eXAi.abc.def');
    expect(bearerAuthorization('bearer token')).toBe('bearer token');
  });

  it.each([[undefined], [''], ['Bearer'], ['Bearer '], ['Basic dXNlcjpwYXNz'], ['Bearer two words'], ['Token abc']])(
    'has no token in %j',
    (header) => {
      expect(bearerAuthorization(header)).toBeUndefined();
    },
  );
});

describe('clientRequestId', () => {
  it("keeps the caller's GUID", () => {
    expect(clientRequestId('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it.each([[undefined], ['not-a-guid'], ['0f8fad5b-d9cb-469f-a165-70867728950e\r\nx: y'], [['a', 'b']]])(
    'makes a new UUID for %j',
    (header) => {
      const id = clientRequestId(header);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).not.toBe(header);
    },
  );
});
