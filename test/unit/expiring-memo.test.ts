import { describe, expect, it } from '@jest/globals';
import { ExpiringMemo } from '../../src/memo/expiring-memo.js';

/** What sign-in remembers per token (the verifier's checked callers, the exchange's Graph tokens). */

const NOW = 1_000_000;

describe('ExpiringMemo', () => {
  it('answers an entry until its expiry, and nothing from then on', () => {
    const memo = new ExpiringMemo<string>(10);
    memo.set('token', 'caller', NOW + 1000);

    expect(memo.get('token', NOW + 999)).toBe('caller');
    expect(memo.get('token', NOW + 1000)).toBeUndefined();
    expect(memo.get('token', NOW + 999)).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('keeps at most its count of entries, the least recently read making room', () => {
    const memo = new ExpiringMemo<string>(2);
    memo.set('a', 'A', NOW + 1000);
    memo.set('b', 'B', NOW + 1000);
    memo.get('a', NOW);

    memo.set('c', 'C', NOW + 1000);

    expect([memo.get('a', NOW), memo.get('b', NOW), memo.get('c', NOW)]).toEqual(['A', undefined, 'C']);
    expect(memo.size).toBe(2);
  });

  it('keeps at most its bytes, the least recently read making room, and never keeps an entry larger than them', () => {
    const memo = new ExpiringMemo<string>(100, { maxBytes: 10, bytesOf: (_key, value) => value.length });
    memo.set('a', 'aaaa', NOW + 1000);
    memo.set('b', 'bbbb', NOW + 1000);
    memo.get('a', NOW);

    memo.set('c', 'cccc', NOW + 1000);
    memo.set('huge', 'h'.repeat(11), NOW + 1000);

    expect([memo.get('a', NOW), memo.get('b', NOW), memo.get('c', NOW), memo.get('huge', NOW)]).toEqual(['aaaa', undefined, 'cccc', undefined]);
    expect(memo.bytes).toBe(8);
  });

  it('counts a replaced entry once', () => {
    const memo = new ExpiringMemo<string>(100, { maxBytes: 10, bytesOf: (_key, value) => value.length });
    memo.set('a', 'aaaa', NOW + 1000);
    memo.set('a', 'aaaaaa', NOW + 1000);

    expect([memo.size, memo.bytes]).toEqual([1, 6]);
  });

  it('tells of each entry pushed out to make room, and of nothing replaced or expired', () => {
    const evicted: number[] = [];
    const memo = new ExpiringMemo<string>(100, { maxBytes: 10, bytesOf: (_key, value) => value.length, onEvicted: (bytes) => evicted.push(bytes) });
    memo.set('a', 'aaaa', NOW + 1000);
    memo.set('a', 'aaa', NOW + 1000);
    memo.set('b', 'bbbb', NOW + 1);
    memo.get('b', NOW + 2);

    memo.set('c', 'cccccc', NOW + 1000);
    memo.set('d', 'dddddd', NOW + 1000);

    expect(evicted).toEqual([3, 6]);
  });
});
