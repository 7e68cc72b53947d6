'use client';

import { useState, type ReactNode } from 'react';
import { useLiveRecord, useApiMutation } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { ZAssignmentCreate, type TAssignmentDto, type TCardDto } from '@/lib/shared/schemas/cards';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { Button } from '@/components/ui/field';
import { RelativeTime } from '@/components/ui/relative-time';
import { RecordPicker } from '@/components/pickers/record-picker';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';
import { AccountEditForm } from '@/components/accounts/account-edit-form';
import { Money } from '@/components/ui/money';
import { statusText } from '@/lib/shared/format';
import { AuditTable } from '@/components/audit/audit-panel';
import { BalanceSection } from './balance-section';
import { BrandEditor } from '@/components/brands/brand-editor';
import { StatementsSection } from './statements-section';
import { RecordCalls } from '@/components/calls/calls-panel';
import { AccountUsers } from './account-users';
import { DeleteRecord } from './delete-record';
import { Facts, RecordLink, RecordList, RecordTitle, RecordBody } from './record-parts';

/**
 * A reseller's page: its live record and, per tab (the tab is in the URL), its overview
 * with the edit form, its users with "+ Add user" for this account, the cards assigned
 * to it, its customers, its sub-resellers, its balance and ledger, and its activity.
 */
export function ResellerRecord({
  initial,
  tab,
  tabs,
  can,
  own,
  parentName,
}: {
  initial: TResellerDto;
  tab: string;
  /** The tab links, rendered by the page (each tab is a URL). */
  tabs: ReactNode;
  can: TUiAbilities;
  own: { id: string; name: string };
  parentName: string;
}) {
  const record = useLiveRecord<TResellerDto>('resellers', initial);
  const reseller = record.data;
  return (
    <div className="space-y-4">
      <RecordTitle
        titleKind="Reseller"
        kind={`Reseller · level ${reseller.depth}`}
        name={reseller.name}
        status={reseller.status}
        topic={`resellers:${reseller.id}`}
        gone={record.gone}
      />
      {tabs}
      <RecordBody gone={record.gone}>
        {tab === 'overview' ? (
          <Overview
            reseller={reseller}
            canEdit={can.resellers.edit}
            canDelete={can.resellers.delete}
            parentName={parentName}
          />
        ) : tab === 'users' ? (
          <AccountUsers account={reseller} canCreate={can.users.create} own={own} />
        ) : tab === 'cards' ? (
          <Cards reseller={reseller} can={can} own={own} />
        ) : tab === 'customers' ? (
          <PanelSection title={`Customers of ${reseller.name}`}>
            <RecordList<TCustomerDto>
              queryKey={queryKeys.list('customers', { parentId: reseller.id })}
              label={`Customers of ${reseller.name}`}
              headers={['Name', 'Email', 'Credit limit', 'Balance', 'Status']}
              emptyText="No customers yet."
              row={(customer) => [
                <RecordLink key="name" href={`/customers/${customer.id}`}>
                  {customer.name}
                </RecordLink>,
                customer.email ?? '—',
                <Money key="limit" amount={customer.creditLimit} currency={customer.currency} />,
                <Money key="balance" amount={customer.balance} currency={customer.currency} />,
                statusText(customer),
              ]}
            />
          </PanelSection>
        ) : tab === 'balance' ? (
          // A record page is the parent side's view: whoever may pay, pays from here.
          <BalanceSection
            account={reseller}
            canPay={can.ledger.pay}
            canAdjust={can.ledger.adjust}
          />
        ) : tab === 'statements' ? (
          <StatementsSection account={reseller} canIssue={can.statements.create} />
        ) : tab === 'calls' ? (
          <RecordCalls
            record={{ id: reseller.id, name: reseller.name, kind: 'reseller' }}
            own={own}
            can={can}
          />
        ) : tab === 'brand' ? (
          <BrandEditor account={reseller} canEdit={can.brand.update} />
        ) : tab === 'resellers' ? (
          <PanelSection title={`Sub-resellers of ${reseller.name}`}>
            <RecordList<TResellerDto>
              queryKey={queryKeys.list('resellers', { parentId: reseller.id })}
              label={`Sub-resellers of ${reseller.name}`}
              headers={['Company', 'Email', 'Status']}
              emptyText="No sub-resellers."
              row={(sub) => [
                <RecordLink key="name" href={`/resellers/${sub.id}`}>
                  {sub.name}
                </RecordLink>,
                sub.email ?? '—',
                statusText(sub),
              ]}
            />
          </PanelSection>
        ) : (
          <PanelSection title={`Activity of ${reseller.name}`}>
            <AuditTable
              label={`Activity of ${reseller.name}`}
              filters={{ accountId: reseller.id }}
            />
          </PanelSection>
        )}
      </RecordBody>
    </div>
  );
}

function Overview({
  reseller,
  canEdit,
  canDelete,
  parentName,
}: {
  reseller: TResellerDto;
  canEdit: boolean;
  canDelete: boolean;
  parentName: string;
}) {
  // The form edits the version it was opened at; a newer one is offered by the form itself.
  const [opened, setOpened] = useState(reseller);
  return (
    <div className="grid gap-4 lg:grid-cols-[1fr_1fr]">
      <PanelSection title="Overview">
        <Facts
          items={[
            ['Company', reseller.name],
            ['Email', reseller.email ?? '—'],
            ['Status', statusText(reseller)],
            // The live record's, so a rename of the parent shows here too; the page's name
            // until the record has one (it always does once loaded).
            ['Parent', reseller.parentName || parentName],
            ['Level', reseller.depth],
            ['Currency', reseller.currency],
            [
              'Balance',
              <Money key="balance" amount={reseller.balance} currency={reseller.currency} />,
            ],
            ['Created', <RelativeTime key="created" at={reseller.createdAt} />],
          ]}
        />
      </PanelSection>
      {canEdit ? (
        <PanelSection title="Edit reseller">
          <AccountEditForm
            key={`${opened.id}:${opened.version}`}
            kind="resellers"
            account={opened}
            latest={reseller}
            // The saved version, not the live copy: that one may not have caught up yet.
            onDone={(saved) => setOpened((saved as TResellerDto | undefined) ?? reseller)}
            onReload={(current) => setOpened(current as TResellerDto)}
          />
        </PanelSection>
      ) : null}
      {canDelete ? (
        <PanelSection title="Delete reseller">
          <DeleteRecord
            label="Delete reseller"
            name={reseller.name}
            path={`/resellers/${reseller.id}`}
            consequence={`${reseller.name} is removed for good. Only an account with nothing left in it can go: no sub-accounts, users, groups, cards of its own or assigned to it, ledger entries, statements or calls waiting to be rated.`}
            then="/resellers"
          />
        </PanelSection>
      ) : null}
    </div>
  );
}

/**
 * What this reseller buys — the cards assigned to it, and assigning one of ours — and
 * what it sells: the cards it owns (its customer cards, and provider cards of its own).
 */
function Cards({
  reseller,
  can,
  own,
}: {
  reseller: TResellerDto;
  can: TUiAbilities;
  own: { id: string };
}) {
  // Only a card's owner assigns it, to an account directly below (DESIGN §1).
  const assignable = can.cards.assign && reseller.parentId === own.id;
  return (
    <div className="space-y-4">
      <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
        <PanelSection title={`Cards assigned to ${reseller.name}`}>
          {can.cards.readAssignments ? (
            <RecordList<TAssignmentDto>
              queryKey={queryKeys.list('assignments', { accountId: reseller.id })}
              label={`Cards assigned to ${reseller.name}`}
              headers={[
                { label: 'Card', sort: 'cardName' },
                { label: 'Since', sort: 'createdAt' },
              ]}
              emptyText="No card assigned yet."
              row={(assignment) => [
                <RecordLink key="card" href={`/cards/${assignment.cardId}`}>
                  {assignment.cardName}
                </RecordLink>,
                <RelativeTime key="since" at={assignment.createdAt} />,
              ]}
            />
          ) : (
            <p className="text-sm text-slate-600">Your group does not grant reading assignments.</p>
          )}
        </PanelSection>
        {assignable ? <AssignCard reseller={reseller} ownerId={own.id} /> : null}
      </div>
      <PanelSection title={`Cards owned by ${reseller.name}`}>
        <RecordList<TCardDto>
          queryKey={queryKeys.list('cards', { ownerId: reseller.id })}
          label={`Cards owned by ${reseller.name}`}
          headers={[{ label: 'Card', sort: 'name' }, 'Kind', 'Currency', 'Rates']}
          emptyText={`${reseller.name} owns no card yet.`}
          row={(card) => [
            <RecordLink key="card" href={`/cards/${card.id}`}>
              {card.name}
            </RecordLink>,
            card.kind === 'provider' ? 'Provider' : 'Customer',
            card.currency,
            card.rateCount,
          ]}
        />
      </PanelSection>
    </div>
  );
}

/** One of the viewer's customer cards, searched on the server, given to this reseller. */
function AssignCard({ reseller, ownerId }: { reseller: TResellerDto; ownerId: string }) {
  const assign = useApiMutation<unknown, TAssignmentDto>(
    'POST',
    '/assignments',
    [queryKeys.list('assignments', { accountId: reseller.id })],
    { success: (made) => `${made.cardName} assigned to ${made.accountName}.` },
  );
  const form = useSchemaForm({
    schema: ZAssignmentCreate,
    defaultValues: { cardId: '' },
    toBody: (values) => ({ cardId: values.cardId, accountId: reseller.id }),
    submit: assign.mutateAsync,
  });
  return (
    <PanelSection title="Assign a card">
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Assign a card" noValidate>
        <RecordPicker
          id="assign-card"
          label="Card"
          placeholder="Search your customer cards…"
          sources={[
            {
              resource: 'cards',
              filter: { kind: 'customer', ownerId },
              toOption: (card) => ({
                id: card.id,
                label: String(card.name),
                detail: String(card.currency ?? ''),
              }),
            },
          ]}
          value={form.form.watch('cardId') ?? ''}
          onChange={(id) => form.form.setValue('cardId', id)}
          error={form.fields.cardId ?? form.fields.accountId}
        />
        <FormMessage message={form.message} />
        <Button type="submit" disabled={form.pending}>
          Assign
        </Button>
      </form>
    </PanelSection>
  );
}
