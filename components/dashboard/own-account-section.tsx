'use client';

import { useQuery } from '@tanstack/react-query';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TBalanceDto } from '@/lib/shared/schemas/ledger';
import { BalanceSection } from '@/components/records/balance-section';
import { PanelSection } from '@/components/ui/panel-section';
import { AccountCalls } from './traffic-section';

/**
 * A customer's own account on its overview (issue 19, customer self-care): its balance,
 * credit limit and ledger, and its calls with what it paid for each. Its people never
 * see the account in a list (its scope is its parent's), so the balance is read as its
 * own (`GET /accounts/{id}/balance`) and followed like any view over everything: a
 * payment its reseller records reaches them as their own account's change, and every
 * such change reads it again — with it the ledger, which follows the account's version.
 */
export function OwnAccountSection({
  account,
  showCalls,
}: {
  account: { id: string; name: string };
  showCalls: boolean;
}) {
  const key = queryKeys.anyChange('accounts', { id: account.id, sub: 'balance' });
  const joinedFetch = useJoinedFetch();
  const balance = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => joinedFetch<TBalanceDto>(pathOf(key), { signal }),
  });
  return (
    <div className="space-y-6" data-testid="own-account">
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
