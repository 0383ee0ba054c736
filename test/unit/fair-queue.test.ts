import { describe, expect, it } from '@jest/globals';
import { callerOf, FairQueue, mayQueue } from '../../src/graph/fair-queue.js';

describe('FairQueue', () => {
  it('serves callers in turn, each in its own order', () => {
    const queue = new FairQueue<string>();
    for (const item of ['a1', 'a2', 'a3']) queue.push('a', item);
    queue.push('b', 'b1');
    queue.push('c', 'c1');
    queue.push('b', 'b2');

    const served = Array.from({ length: 6 }, () => queue.shift());

    expect(served).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect([queue.length, queue.shift()]).toEqual([0, undefined]);
  });

  it('puts a call that waited once already at the head, its caller first', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a1');
    queue.push('b', 'b1');
    queue.push('b', 'b0', true);

    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(['b0', 'a1', 'b1']);
  });

  it('moves a caller already waiting to the head for a call that waited once, leaving no second turn behind', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a1');
    queue.push('b', 'b1');
    queue.push('a', 'a0', true);

    // a's turn moved to the head; its old place is gone, so b is served before a's second call.
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual(['a0', 'b1', 'a1', undefined]);
    expect(queue.length).toBe(0);
  });

  it('takes a call out wherever it waits, and forgets a caller with none left', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a1');
    queue.push('b', 'b1');
    queue.push('a', 'a2');

    expect(queue.remove('b1')).toBe(true);
    expect(queue.remove('b1')).toBe(false);
    expect([queue.length, queue.countOf('a'), queue.countOf('b')]).toEqual([2, 2, 0]);
    expect(queue.drain()).toEqual([
      { caller: 'a', item: 'a1' },
      { caller: 'a', item: 'a2' },
    ]);
  });

  it('keeps the last quarter of the places for callers holding less than a quarter', () => {
    const queue = new FairQueue<number>();
    let n = 0;
    while (mayQueue(queue, 'flood', 100)) queue.push('flood', n++);

    expect(n).toBe(75);
    // The flood is told no, another caller yes: its places are kept (the queue's own limit of 100
    // is the scheduler's to check).
    for (let i = 0; i < 24; i++) queue.push(`other-${i}`, i);
    expect([mayQueue(queue, 'flood', 100), mayQueue(queue, 'someone else', 100)]).toEqual([false, true]);
  });

  it('gives a caller holding exactly its share no further place once the kept quarter is reached', () => {
    const queue = new FairQueue<number>();
    // A queue of 8: a share of 2, and 6 places before the kept quarter.
    for (let i = 0; i < 6; i++) queue.push('first', i);
    let taken = 0;
    while (mayQueue(queue, 'second', 8)) queue.push('second', taken++);

    expect(taken).toBe(2);
    expect([queue.countOf('second'), mayQueue(queue, 'second', 8), mayQueue(queue, 'third', 8)]).toEqual([2, false, true]);
  });

  it('knows a caller by a hash of its Authorization, never the token', () => {
    const caller = callerOf('Bearer secret-token');

    expect(caller).toBe(callerOf('Bearer secret-token'));
    expect(caller).not.toBe(callerOf('Bearer other-token'));
    expect(caller).not.toContain('secret');
  });
});
