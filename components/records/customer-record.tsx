'use client';

import { useEffect, useState, type ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import { useLiveRecord, usePagedList } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import type { TAssignmentDto } from '@/lib/shared/schemas/cards';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { PanelSection } from '@/components/ui/panel-section';
import { RelativeTime } from '@/components/ui/relative-time';
import { Money } from '@/components/ui/money';
import { AccountEditForm } from '@/components/accounts/account-edit-form';
import { TransferForm } from '@/components/accounts/transfer-form';
import { AuditTable } from '@/components/audit/audit-panel';
import { statusText } from '@/lib/shared/format';
import { BalanceSection } from './balance-section';
import { RecordCalls } from '@/components/calls/calls-panel';
import { StatementsSection } from './statements-section';
import { AccountUsers } from './account-users';
import { DeleteRecord } from './delete-record';
import { Facts, RecordLink, RecordTitle, RecordBody } from './record-parts';

/**
 * A customer's page: owner, card, credit limit, balance and status, the edit form and
 * the transfer wizard (overview), its users (its people sign in: issue 19), its balance
 * and ledger, and its activity — each tab its own URL.
 */
export function CustomerRecord({
  initial,
  tab,
  tabs,
  can,
  own,
  owner,
}: {
  initial: TCustomerDto;
  tab: string;
  tabs: ReactNode;
  can: TUiAbilities;
  own: { id: string; name: string };
  /** Its parent as the viewer sees it: a reseller page to link, or the viewer's own account. */
  owner: { id: string; name: string; href?: string };
}) {
  const record = useLiveRecord<TCustomerDto>('customers', initial);
  const customer = record.data;
  const [opened, setOpened] = useState(customer);
  const router = useRouter();
  const gone = record.gone;
  // The live record names its owner, so a rename of the owner shows here too (until a
  // transfer's refresh below brings the new owner, the page's own name stands).
  const ownerName =
    customer.parentId === owner.id && customer.parentName ? customer.parentName : owner.name;
  // Moved by someone else (a transfer): the owner and the breadcrumb are the server's,
  // rendered with the page; read them again so they name the new parent.
  useEffect(() => {
    if (!gone && customer.parentId && customer.parentId !== owner.id) router.refresh();
  }, [gone, customer.parentId, owner.id, router]);
  return (
    <div className="space-y-4">
      <RecordTitle
        titleKind="Customer"
        kind="Customer"
        name={customer.name}
        status={customer.status}
        topic={`customers:${customer.id}`}
        gone={gone}
      />
      {tabs}
      <RecordBody gone={gone}>
        {tab === 'overview' ? (
          <div className="grid gap-4 lg:grid-cols-[1fr_1fr]">
            <PanelSection title="Overview">
              <Facts
                items={[
                  ['Name', customer.name],
                  ['Email', customer.email ?? '—'],
                  [
                    'Owner',
                    owner.href ? <RecordLink href={owner.href}>{ownerName}</RecordLink> : ownerName,
                  ],
                  ['Card', <CustomerCard key="card" customer={customer} can={can} />],
                  ['Currency', customer.currency],
                  [
                    'Credit limit',
                    <Money
                      key="limit"
                      amount={customer.creditLimit}
                      currency={customer.currency}
                    />,
                  ],
                  [
                    'Balance',
                    <Money key="balance" amount={customer.balance} currency={customer.currency} />,
                  ],
                  ['Status', statusText(customer)],
                  ['Created', <RelativeTime key="created" at={customer.createdAt} />],
                ]}
              />
            </PanelSection>
            {can.customers.edit ? (
              <PanelSection title="Edit customer">
                <AccountEditForm
                  key={`${opened.id}:${opened.version}`}
                  kind="customers"
                  account={opened}
                  latest={customer}
                  // The saved version, not the live copy: that one may not have caught up yet.
                  onDone={(saved) => setOpened((saved as TCustomerDto | undefined) ?? customer)}
                  onReload={(current) => setOpened(current as TCustomerDto)}
                />
                <TransferForm
                  key={customer.parentId}
                  customer={customer}
                  own={own}
                  canMoveMoney={can.ledger.pay}
                  // The owner and the breadcrumb are the server's: read them again.
                  onDone={() => router.refresh()}
                />
              </PanelSection>
            ) : null}
            {can.customers.delete ? (
              <PanelSection title="Delete customer">
                <DeleteRecord
                  label="Delete customer"
                  name={customer.name}
                  path={`/customers/${customer.id}`}
                  consequence={`${customer.name} is removed for good. Only a customer with nothing left in it can go: no users, groups, cards, ledger entries, statements or calls waiting to be rated.`}
                  then="/customers"
                />
              </PanelSection>
            ) : null}
          </div>
        ) : tab === 'users' ? (
          <AccountUsers account={customer} canCreate={can.users.create} own={own} />
        ) : tab === 'balance' ? (
          // A record page is the parent side's view: whoever may pay, pays from here.
          <BalanceSection
            account={customer}
            canPay={can.ledger.pay}
            canAdjust={can.ledger.adjust}
          />
        ) : tab === 'calls' ? (
          <RecordCalls
            record={{ id: customer.id, name: customer.name, kind: 'customer' }}
            own={own}
            can={can}
          />
        ) : tab === 'statements' ? (
          <StatementsSection account={customer} canIssue={can.statements.create} />
        ) : (
          <PanelSection title={`Activity of ${customer.name}`}>
            <AuditTable
              label={`Activity of ${customer.name}`}
              filters={{ accountId: customer.id }}
            />
          </PanelSection>
        )}
      </RecordBody>
    </div>
  );
}

/** The card the customer is billed on (a customer holds at most one). */
function CustomerCard({ customer, can }: { customer: TCustomerDto; can: TUiAbilities }) {
  const held = usePagedList<TAssignmentDto>(
    queryKeys.list('assignments', { accountId: customer.id }),
    { enabled: can.cards.readAssignments },
  );
  if (!can.cards.readAssignments) return <>—</>;
  if (held.isLoading) return <>…</>;
  const assignment = held.data?.[0];
  if (!assignment) return <>None assigned</>;
  return <RecordLink href={`/cards/${assignment.cardId}`}>{assignment.cardName}</RecordLink>;
}
