'use client';

import { useQuery } from '@tanstack/react-query';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TBalanceDto } from '@/lib/shared/schemas/ledger';
import { BalanceSection } from '@/components/records/balance-section';
import { PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { AccountCalls } from './traffic-section';

/**
 * The viewer's own balance, followed live: one query the overview's parts share (off for
 * a viewer without one to read: a carrier, or no `ledger:read`).
 */
export function useOwnBalance(accountId: string, enabled = true) {
  const key = queryKeys.anyChange('accounts', { id: accountId, sub: 'balance' });
  const joinedFetch = useJoinedFetch();
  return useQuery({
    queryKey: key,
    queryFn: ({ signal }) => joinedFetch<TBalanceDto>(pathOf(key), { signal }),
    enabled,
  });
}

/**
 * The viewer's own account refused calls for credit, said first on the overview: a
 * reseller (or a customer) blocked by its own balance or by an account above it would
 * otherwise read "Nothing needs attention" while every call below it is refused. The
 * account above is not named: its people may not see it.
 */
export function OwnCreditAlert({
  account,
}: {
  account: { id: string; kind: 'carrier' | 'reseller' | 'customer' };
}) {
  const balance = useOwnBalance(account.id);
  const block = balance.data?.creditBlock;
  if (!balance.data || !block) return null;
  const calls = account.kind === 'customer' ? 'Your calls are' : "Your customers' calls are";
  return (
    <p
      role="alert"
      className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900"
      data-testid="own-credit-alert"
    >
      {block === 'own' ? (
        <>
          <span className="font-semibold">Your account is out of credit</span>: available{' '}
          <Money amount={balance.data.available} currency={balance.data.currency} />
          {balance.data.creditLimit !== null ? (
            <>
              {' '}
              (credit limit{' '}
              <Money amount={balance.data.creditLimit} currency={balance.data.currency} />)
            </>
          ) : null}
          . {calls} refused until a payment is recorded or the limit is raised by the account above
          yours.
        </>
      ) : (
        <>
          <span className="font-semibold">An account above yours is out of credit</span>. {calls}{' '}
          refused until it is settled.
        </>
      )}{' '}
      <a href="#own-account" className="underline">
        Your balance
      </a>
    </p>
  );
}

/**
 * A customer's own account on its overview (issue 19, customer self-care): its balance,
 * credit limit and ledger, and its calls with what it paid for each. Its people never
 * see the account in a list (its scope is its parent's), so the balance is read as its
 * own (`GET /accounts/{id}/balance`) and followed like any view over everything: a
 * payment its reseller records reaches them as their own account's change, and every
 * such change reads it again — with it the ledger, which follows the account's version.
 * A reseller's overview shows it too (its account with the side above: what it owes for
 * its customers' calls, what it paid), without the calls, which its traffic shows.
 */
export function OwnAccountSection({
  account,
  showCalls,
}: {
  account: { id: string; name: string };
  showCalls: boolean;
}) {
  const balance = useOwnBalance(account.id);
  return (
    <div className="space-y-6" data-testid="own-account" id="own-account">
      {balance.data ? (
        <BalanceSection
          account={{
            id: account.id,
            name: account.name,
            version: balance.data.version,
            currency: balance.data.currency,
            balance: balance.data.balance,
            creditLimit: balance.data.creditLimit,
            creditBlock: balance.data.creditBlock,
            warningThreshold: balance.data.warningThreshold,
          }}
          canPay={false}
        />
      ) : balance.isError ? (
        <p role="alert" className="text-sm text-red-700">
          Your balance could not be read.
        </p>
      ) : null}
      {showCalls ? (
        <PanelSection title="Your calls">
          <AccountCalls account={account} />
        </PanelSection>
      ) : null}
    </div>
  );
}
