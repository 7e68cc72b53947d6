import { describe, expect, it } from 'vitest';
import { suspendConsequence } from '@/components/accounts/suspend-consequence';

describe('suspendConsequence', () => {
  it('lists what is below when every count is readable', () => {
    const impact = { accounts: 2, resellers: 1, customers: 12, users: 5 };
    expect(suspendConsequence(impact, 2)).toBe(
      'they and their 1 reseller, 12 customers and 5 users lose access until resumed.',
    );
    expect(suspendConsequence({ accounts: 1, resellers: 0, customers: 0, users: 0 }, 1)).toBe(
      'it loses access until resumed; nothing is below it and no user signs in there.',
    );
  });

  it('never says "nothing is below" when a count is withheld', () => {
    const hidden = { accounts: 1, resellers: null, customers: 0, users: null };
    expect(suspendConsequence(hidden, 1)).toBe(
      'it and everything below it lose access until resumed.',
    );
    const some = { accounts: 2, resellers: null, customers: 3, users: null };
    expect(suspendConsequence(some, 2)).toBe(
      'they and their 3 customers, with everything else below them, lose access until resumed.',
    );
  });

  it('says nothing changes when every named account is suspended already', () => {
    expect(suspendConsequence({ accounts: 0, resellers: null, customers: 4, users: 1 }, 3)).toBe(
      'they are suspended already: nothing changes.',
    );
  });
});
