import { describe, expect, it } from '@jest/globals';
import { MailboxBudgets } from '../../src/graph/mailbox-budgets.js';

/** 30 requests per 5 s (buckets of 100 ms), 10 MB per 60 s (buckets of 1.2 s), on a clock the test moves. */
const OPTIONS = { requests: 30, requestWindowS: 5, uploadBytes: 10_000_000, uploadWindowS: 60 };
const ONE = { requests: 1, uploadBytes: 0 };

function budgetsAt(start: number): { budgets: MailboxBudgets; clock: { now: number } } {
  const clock = { now: start };
  return { budgets: new MailboxBudgets(OPTIONS, () => clock.now), clock };
}

describe('MailboxBudgets', () => {
  it('refuses the 31st request of a 5 s window with the seconds until the first is forgotten, and allows it then', () => {
    const { budgets, clock } = budgetsAt(1_000_000);
    for (let i = 0; i < 30; i++) {
      expect(budgets.charge('mailbox', ONE)).toEqual({ allowed: true });
      clock.now += 50;
    }
    // 1.5 s after the first: it is forgotten 5 s after its bucket ends (1,000,100 + 5,000), 3.6 s on.
    expect(budgets.charge('mailbox', ONE)).toEqual({ allowed: false, budget: 'requests', retryAfterS: 4 });
    clock.now = 1_000_000 + 5099;
    expect(budgets.charge('mailbox', ONE)).toMatchObject({ allowed: false });
    clock.now = 1_000_000 + 5100;
    expect(budgets.charge('mailbox', ONE)).toEqual({ allowed: true });
  });

  it('counts a batch of several requests all or nothing, and each mailbox on its own', () => {
    const { budgets } = budgetsAt(2_000_000);
    expect(budgets.charge('mailbox', { requests: 20, uploadBytes: 0 })).toEqual({ allowed: true });
    expect(budgets.charge('mailbox', { requests: 11, uploadBytes: 0 })).toMatchObject({ allowed: false, budget: 'requests' });
    expect(budgets.charge('mailbox', { requests: 10, uploadBytes: 0 })).toEqual({ allowed: true });
    expect(budgets.charge('other', { requests: 20, uploadBytes: 0 })).toEqual({ allowed: true });
    expect(budgets.left.requests).toBe(0);
  });

  it('refuses an upload past the byte budget without counting its request, naming the upload budget', () => {
    const { budgets, clock } = budgetsAt(3_000_000);
    expect(budgets.charge('mailbox', { requests: 1, uploadBytes: 6_000_000 })).toEqual({ allowed: true });
    clock.now += 1000;
    // Forgotten when its bucket (3,000,000 to 3,001,200) is a whole window old: 60.2 s on.
    expect(budgets.charge('mailbox', { requests: 1, uploadBytes: 6_000_000 })).toEqual({ allowed: false, budget: 'upload', retryAfterS: 61 });
    expect(budgets.left).toEqual({ requests: 29, uploadBytes: 4_000_000 });
    expect(budgets.charge('mailbox', { requests: 1, uploadBytes: 4_000_000 })).toEqual({ allowed: true });
  });

  it('forgets a mailbox once its windows are empty', () => {
    const { budgets, clock } = budgetsAt(4_000_000);
    budgets.charge('mailbox', { requests: 1, uploadBytes: 1000 });
    expect(budgets.size).toBe(1);
    clock.now += 61_300;

    expect(budgets.left).toEqual({ requests: 30, uploadBytes: 10_000_000 });
    expect(budgets.size).toBe(0);
  });

  it('counts what it is told to record even past the budget (the shared budget allowed it)', () => {
    const { budgets } = budgetsAt(5_000_000);
    budgets.record('mailbox', { requests: 30, uploadBytes: 0 });
    expect(budgets.charge('mailbox', ONE)).toMatchObject({ allowed: false, budget: 'requests', retryAfterS: 6 });
  });
});
