import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayErrorCode } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { MailboxLease } from '../../src/graph/mailbox-limiter.js';
import { MailboxScheduler } from '../../src/graph/mailbox-scheduler.js';

const FAR = () => Date.now() + 60_000;

/** The leases of the calls started, by name, for the test to release. */
const leases = new Map<string, MailboxLease>();
const release = (name: string) => leases.get(name)!.release();

/** Starts a call that records when it got its slots, and resolves to its error code if refused. */
function track(scheduler: MailboxScheduler, mailbox: string, started: string[], name: string, deadline = FAR(), retry = false, slots = 1) {
  const got = (lease: MailboxLease) => {
    leases.set(name, lease);
    started.push(name);
    return 'started';
  };
  try {
    const lease = scheduler.acquire(mailbox, deadline, { retry, slots });
    if (!(lease instanceof Promise)) return Promise.resolve(got(lease));
    return lease.then(got, (error: GatewayError) => error.code);
  } catch (error) {
    return Promise.resolve((error as GatewayError).code);
  }
}

describe('MailboxScheduler', () => {
  it('runs up to `concurrency` calls per mailbox at once and starts the others in arrival order', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 2, queueLimit: 10 });
    const started: string[] = [];
    const calls = ['a', 'b', 'c', 'd'].map((name) => track(scheduler, 'm', started, name));
    await sleep(5);
    expect(started).toEqual(['a', 'b']);

    release('a');
    await sleep(5);
    expect(started).toEqual(['a', 'b', 'c']);
    release('b');
    await Promise.all(calls);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps mailboxes apart', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    const started: string[] = [];
    await Promise.all([track(scheduler, 'one', started, 'one'), track(scheduler, 'two', started, 'two')]);
    expect(started).toEqual(['one', 'two']);
  });

  it('fails a call at once with TOO_MANY_REQUESTS when the queue is full', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 1 });
    const started: string[] = [];
    void track(scheduler, 'm', started, 'running');
    void track(scheduler, 'm', started, 'waiting');

    let refused: GatewayError | undefined;
    try {
      scheduler.acquire('m', FAR());
    } catch (error) {
      refused = error as GatewayError;
    }
    expect(refused?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused?.extensions).toMatchObject({ retryAfter: 1 });
  });

  it('ends a wait that outlives the call deadline with GATEWAY_TIMEOUT, and forgets the waiter', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    const started: string[] = [];
    void track(scheduler, 'm', started, 'running');
    const late = track(scheduler, 'm', started, 'late', Date.now() + 30);

    expect(await late).toBe('GATEWAY_TIMEOUT');
    expect(scheduler.size.waiting).toBe(0);
    release('running');
    expect(started).toEqual(['running']);
  });

  it('holds a paused mailbox until the pause ends, then starts up to `concurrency` calls', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 2, queueLimit: 10 });
    const started: string[] = [];
    await track(scheduler, 'm', started, 'throttled');
    scheduler.pause('m', 80);
    release('throttled');
    const calls = ['a', 'b', 'c'].map((name) => track(scheduler, 'm', started, name));

    await sleep(40);
    expect(started).toEqual(['throttled']);
    await sleep(80);
    expect(started).toEqual(['throttled', 'a', 'b']);
    release('a');
    await Promise.all(calls);
  });

  it('answers TOO_MANY_REQUESTS at once, with the pause left as retryAfter, when paused past the deadline', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 4, queueLimit: 10 });
    await track(scheduler, 'm', [], 'throttled');
    scheduler.pause('m', 5000);

    let refused: GatewayError | undefined;
    try {
      scheduler.acquire('m', Date.now() + 1000);
    } catch (error) {
      refused = error as GatewayError;
    }
    expect(refused?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused?.extensions).toMatchObject({ retryAfter: 5 });
    scheduler.rejectAll(() => new GatewayError(GatewayErrorCode.SHUTTING_DOWN, null));
  });

  it('puts a retried call at the head of the queue', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    const started: string[] = [];
    void track(scheduler, 'm', started, 'running');
    const first = track(scheduler, 'm', started, 'first');
    const retried = track(scheduler, 'm', started, 'retried', FAR(), true);

    release('running');
    await retried;
    expect(started).toEqual(['running', 'retried']);
    release('retried');
    await first;
  });

  it('keeps no entry for an idle mailbox', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    for (let i = 0; i < 100; i++) {
      await track(scheduler, `m${i}`, [], 'call');
      release('call');
    }
    await track(scheduler, 'paused', [], 'call');
    scheduler.pause('paused', 20);
    release('call');
    expect(scheduler.size.mailboxes).toBe(1);

    await sleep(40);
    expect(scheduler.size).toEqual({ mailboxes: 0, waiting: 0 });
  });

  it('gives a lease its slots once, however often it is released', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    const started: string[] = [];
    await track(scheduler, 'm', started, 'first');
    const second = track(scheduler, 'm', started, 'second');
    const third = track(scheduler, 'm', started, 'third');

    release('first');
    release('first');
    await second;
    await sleep(5);

    expect(started).toEqual(['first', 'second']);
    release('second');
    await third;
  });

  it('grants several slots at once, all or none, and a call needing them is not overtaken', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 4, queueLimit: 10 });
    const started: string[] = [];
    await track(scheduler, 'm', started, 'one');
    await track(scheduler, 'm', started, 'two');
    const batch = track(scheduler, 'm', started, 'batch of 3', FAR(), false, 3);
    const single = track(scheduler, 'm', started, 'single');
    await sleep(5);
    // Two of four slots are free: not enough for the batch, and the single waits behind it.
    expect(started).toEqual(['one', 'two']);

    release('one');
    await batch;
    expect(started).toEqual(['one', 'two', 'batch of 3']);
    release('two');
    await single;
    expect(started).toEqual(['one', 'two', 'batch of 3', 'single']);
    release('batch of 3');
    release('single');
    expect(scheduler.size).toEqual({ mailboxes: 0, waiting: 0 });
  });

  it('fails every waiting call at shutdown', async () => {
    const scheduler = new MailboxScheduler({ concurrency: 1, queueLimit: 10 });
    void track(scheduler, 'm', [], 'running');
    const waiting = [track(scheduler, 'm', [], 'a'), track(scheduler, 'm', [], 'b')];

    scheduler.rejectAll(() => new GatewayError(GatewayErrorCode.SHUTTING_DOWN, null));

    expect(await Promise.all(waiting)).toEqual(['SHUTTING_DOWN', 'SHUTTING_DOWN']);
  });
});
