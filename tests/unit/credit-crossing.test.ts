import { describe, expect, it } from 'vitest';
import { creditCrossing } from '@/lib/server/services/ledger/credit-notice';

/** Which notice a change of an account's credit raises (issue 17, warning thresholds). */
const account = (balance: string, over: Record<string, unknown> = {}) => ({
  balance,
  creditLimit: '100',
  creditBlocked: false,
  warningThreshold: '30' as string | null,
  ...over,
});

describe('creditCrossing', () => {
  it('warns when available goes from above the threshold to at or below it', () => {
    expect(creditCrossing(account('-60'), account('-70'))).toBe('account.credit_warning');
    expect(creditCrossing(account('-60'), account('-69.999999'))).toBeNull();
  });

  it('stays quiet below, and re-arms above', () => {
    expect(creditCrossing(account('-75'), account('-80'))).toBeNull();
    expect(creditCrossing(account('-80'), account('-50'))).toBeNull();
    expect(creditCrossing(account('-50'), account('-85'))).toBe('account.credit_warning');
  });

  it('names the block, the graver, when one movement does both', () => {
    expect(creditCrossing(account('0'), account('-100', { creditBlocked: true }))).toBe(
      'account.credit_blocked',
    );
    expect(
      creditCrossing(
        account('-100', { creditBlocked: true }),
        account('-101', { creditBlocked: true }),
      ),
    ).toBeNull();
  });

  it('without a threshold, only blocking notifies; no limit means the balance alone', () => {
    expect(creditCrossing(account('0'), account('-90', { warningThreshold: null }))).toBeNull();
    expect(
      creditCrossing(account('40', { creditLimit: null }), account('20', { creditLimit: null })),
    ).toBe('account.credit_warning');
  });
});
