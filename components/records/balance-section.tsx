'use client';

import { useEffect, useId, useState } from 'react';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { ApiClientError, apiFetch, type TPageOf } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import { Money as Decimal } from '@/lib/shared/pricing/money';
import {
  LEDGER_KINDS,
  ZAdjustmentCreate,
  ZPaymentCreate,
  type TLedgerEntryDto,
  type TLedgerKind,
  type TPaymentRecorded,
} from '@/lib/shared/schemas/ledger';
import { Button, InlineDate, InlineSelect, SelectField, TextField } from '@/components/ui/field';
import { dayWindow } from '@/lib/client/day-window';
import { searchOf } from '@/lib/client/query-keys';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { Facts } from './record-parts';
import { columnDecimals, formatMoney } from '@/lib/shared/format';
import { FilterInError } from '@/components/ui/filter-form';
import { DateTime } from '@/components/ui/date-time';

/** What the section needs of the account: its live DTO (a reseller has no limit yet). */
interface TMoneyAccount {
  id: string;
  name: string;
  version: number;
  currency: string;
  balance: string;
  creditLimit?: string | null;
  creditBlock?: 'own' | 'above' | null;
  warningThreshold?: string | null;
}

const KIND_LABEL: Record<TLedgerKind, string> = {
  payment: 'Payment',
  credit_note: 'Credit note',
  adjustment: 'Adjustment',
  usage: 'Usage',
};

/**
 * An account's money (issue 17): balance, credit limit and available credit from its
 * live record (so they move as payments land, on every open panel), its ledger newest
 * first and paged, and — for the parent side with `payments:create` — "Record payment",
 * with `adjustments:create` "Correct balance" (a credit note or an adjustment), each
 * confirmed before it is sent. The ledger is read again whenever the account's version
 * moves: every movement bumps it.
 */
export function BalanceSection({
  account,
  canPay,
  canAdjust = false,
}: {
  account: TMoneyAccount;
  /** The viewer is above the account and may record payments. */
  canPay: boolean;
  /** The viewer is above the account and may post credit notes and adjustments. */
  canAdjust?: boolean;
}) {
  const forms = canPay || canAdjust;
  const limit = account.creditLimit ?? null;
  const available = new Decimal(account.balance).plus(limit ?? '0').toFixed(6);
  return (
    // Two columns only beside the form: alone, the list takes the whole width.
    <div className={`grid gap-4 ${forms ? 'lg:grid-cols-[2fr_1fr]' : ''}`}>
      <PanelSection title={`Balance of ${account.name}`}>
        <Facts
          items={[
            ['Currency', account.currency],
            [
              'Balance',
              <Money
                key="balance"
                amount={account.balance}
                currency={account.currency}
                className="font-semibold"
              />,
            ],
            [
              'Credit limit',
              // No limit never blocks (0 is prepaid): not the same thing, so said apart.
              limit === null ? (
                'None (never blocked for credit)'
              ) : (
                <Money amount={limit} currency={account.currency} />
              ),
            ],
            [
              'Available',
              limit === null ? (
                'No limit'
              ) : (
                <Money key="available" amount={available} currency={account.currency} />
              ),
            ],
            [
              'Warning at',
              account.warningThreshold ? (
                <Money amount={account.warningThreshold} currency={account.currency} />
              ) : (
                '— (no warning)'
              ),
            ],
            [
              'Credit',
              account.creditBlock === 'own'
                ? 'Blocked: no credit left (a payment unblocks it)'
                : account.creditBlock === 'above'
                  ? 'Blocked: an account above it has no credit left'
                  : 'Open',
            ],
          ]}
        />
        <Ledger account={account} />
      </PanelSection>
      {forms ? (
        <div className="space-y-4">
          {canPay ? <RecordPayment account={account} /> : null}
          {canAdjust ? <CorrectBalance account={account} /> : null}
        </div>
      ) : null}
    </div>
  );
}

function Ledger({ account }: { account: TMoneyAccount }) {
  const [kind, setKind] = useState<TLedgerKind | ''>('');
  const headingId = useId();
  const [fromDay, setFromDay] = useState('');
  const [toDay, setToDay] = useState('');
  const daysError = fromDay && toDay && fromDay > toDay ? 'ends before it starts' : undefined;
  const days = daysError ? {} : dayWindow(fromDay, toDay);
  const queryClient = useQueryClient();
  // Not kept by the live cache: the same ledger hangs under a reseller's or a customer's
  // record and under a customer's own overview, where its account is no list entry.
  const queryKey = queryKeys.static('accounts', {
    id: account.id,
    sub: 'ledger',
    filter: { kind, ...days },
  });
  const joinedFetch = useJoinedFetch();
  const ledger = useInfiniteQuery({
    queryKey,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      joinedFetch<TPageOf<TLedgerEntryDto>>(
        pathOf(queryKey, { limit: '20', cursor: pageParam ?? undefined }),
        { signal },
      ),
    getNextPageParam: (page) => page.nextCursor,
    // Days in error narrow nothing: nothing is read until they are fixed.
    enabled: !daysError,
  });
  // A movement bumps the account's version (it arrives live): read the ledger again,
  // under every kind filter (a key's fields match any key that has them and more).
  useEffect(() => {
    void queryClient.invalidateQueries({
      queryKey: queryKeys.static('accounts', { id: account.id, sub: 'ledger' }),
    });
  }, [account.id, account.version, queryClient]);
  const rows = ledger.data?.pages.flatMap((page) => page.items) ?? [];
  // Each column at one count of decimals, so its amounts line up.
  const decimals = {
    amount: columnDecimals(
      rows.map((entry) => entry.amount),
      account.currency,
    ),
    balanceAfter: columnDecimals(
      rows.map((entry) => entry.balanceAfter),
      account.currency,
    ),
  };
  return (
    <section className="mt-4 space-y-2" aria-labelledby={headingId}>
      <div className="flex flex-wrap items-end justify-between gap-2">
        <h3 id={headingId} className="text-sm font-semibold text-slate-700">
          Ledger
        </h3>
        <div className="flex flex-wrap items-center gap-3">
          <InlineSelect
            label="Kind"
            value={kind}
            onChange={(value) => setKind(value as TLedgerKind | '')}
          >
            <option value="">All</option>
            {LEDGER_KINDS.map((value) => (
              <option key={value} value={value}>
                {KIND_LABEL[value]}
              </option>
            ))}
          </InlineSelect>
          <InlineDate label="From" value={fromDay} onChange={setFromDay} />
          <InlineDate label="To" value={toDay} onChange={setToDay} invalid={daysError} />
          {/* The same selection as a file: the list's filters, oldest first. */}
          {daysError ? (
            // No selection to download while the days are in error: dropped, they would
            // export the whole ledger.
            <span className="text-sm text-slate-500">Export CSV: fix the days first</span>
          ) : (
            <a
              className="text-sm text-brand-700 underline"
              href={`/api/v1/accounts/${account.id}/ledger/export?${searchOf({ kind, ...days })}`}
              download
            >
              Export CSV
            </a>
          )}
        </div>
      </div>
      {daysError ? (
        <FilterInError />
      ) : ledger.isError ? (
        <p role="alert" className="text-sm text-red-700">
          The ledger could not be read.
        </p>
      ) : ledger.isLoading ? (
        <p className="text-sm text-slate-600">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="text-sm text-slate-600">
          {kind || fromDay || toDay ? 'No movements in this selection.' : 'No movements yet.'}
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" aria-label={`Ledger of ${account.name}`}>
            <thead>
              <tr className="text-left text-slate-600">
                <th scope="col" className="py-1 pr-3 font-medium">
                  When
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Kind
                </th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">
                  Amount
                </th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">
                  Balance after
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Reference
                </th>
                <th scope="col" className="py-1 font-medium">
                  By
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((entry) => (
                <tr key={entry.id} className="border-t border-slate-100">
                  <td className="py-1 pr-3">
                    <DateTime at={entry.createdAt} />
                  </td>
                  <td className="py-1 pr-3">{KIND_LABEL[entry.kind]}</td>
                  <td className="py-1 pr-3 text-right tabular-nums">
                    <Money
                      amount={entry.amount}
                      currency={entry.currency}
                      minDecimals={decimals.amount}
                    />
                  </td>
                  <td className="py-1 pr-3 text-right tabular-nums">
                    <Money
                      amount={entry.balanceAfter}
                      currency={entry.currency}
                      minDecimals={decimals.balanceAfter}
                    />
                  </td>
                  <td className="py-1 pr-3">{entry.reference ?? '—'}</td>
                  <td className="py-1">
                    {entry.by.kind === 'user' ? entry.by.email : entry.by.name}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {ledger.hasNextPage ? (
        <Button
          type="button"
          onClick={() => void ledger.fetchNextPage()}
          disabled={ledger.isFetchingNextPage}
        >
          Load more
        </Button>
      ) : null}
    </section>
  );
}

/** A fresh key per payment the form is opened for: a resend of the same one counts once. */
function newKey(): string {
  return crypto.randomUUID();
}

/**
 * A form's keyed money write (`payments`, `adjustments`): the key its body carries, kept
 * across resends of one movement, and the post that takes a fresh one once it landed.
 *
 * The key is kept after a failure, so a resend after a lost answer counts once. If the
 * figures were edited before that resend (or a transfer changed the account's currency
 * meanwhile), the server refuses the key (409 `idempotency_conflict`) and names what it
 * recorded under it: that movement landed, its answer was lost. The person is told so,
 * in words rather than keys, and the form takes a fresh key: posting again records a
 * second movement, which is then on purpose.
 */
function useKeyedPost(
  accountId: string,
  route: 'payments' | 'adjustments',
  movement: 'payment' | 'correction',
) {
  const [key, setKey] = useState(newKey);
  const post = async (body: object) => {
    try {
      const recorded = await apiFetch<TPaymentRecorded>(`/accounts/${accountId}/${route}`, {
        method: 'POST',
        body,
      });
      setKey(newKey());
      return recorded;
    } catch (error) {
      if (!(error instanceof ApiClientError) || error.code !== 'idempotency_conflict') throw error;
      setKey(newKey());
      throw new ApiClientError(error.status, error.code, keyRefusal(movement, error.current));
    }
  };
  return { key, post };
}

/** What a refused key recorded, said plainly; without the server's facts, said carefully. */
function keyRefusal(movement: 'payment' | 'correction', current: unknown): string {
  const entry = current as { amount?: unknown; currency?: unknown; reference?: unknown } | null;
  const after = `This one was not recorded: post it again only if it is another ${movement}.`;
  if (typeof entry?.amount !== 'string' || typeof entry.currency !== 'string') {
    return `An earlier ${movement} sent from this form got no answer and may have been recorded: check the ledger on this tab. ${after}`;
  }
  const amount = formatMoney(entry.amount, { currency: entry.currency });
  const reference = typeof entry.reference === 'string' ? ` (${entry.reference})` : '';
  return `The ${movement} sent earlier from this form was recorded: ${amount}${reference}, though its answer was lost on the way. ${after}`;
}

function RecordPayment({ account }: { account: TMoneyAccount }) {
  const { confirm, dialog } = useConfirm();
  const { key, post } = useKeyedPost(account.id, 'payments', 'payment');
  const form = useSchemaForm({
    schema: ZPaymentCreate,
    defaultValues: { amount: '', reference: '' },
    toBody: (values) => ({
      amount: values.amount.trim(),
      // The currency the amount is typed in: refused if a transfer changed it meanwhile.
      currency: account.currency,
      ...(values.reference.trim() ? { reference: values.reference.trim() } : {}),
      idempotencyKey: key,
    }),
    submit: async (body) => {
      const sure = await confirm({
        title: `Record a payment from ${account.name}?`,
        consequence: `${formatMoney(body.amount, { currency: account.currency })} is added to ${account.name}'s balance and written to its ledger, which is never edited afterwards.`,
        confirmLabel: 'Record payment',
        danger: false,
      });
      if (!sure) throw new SubmitCancelled();
      return post(body);
    },
    success: (recorded: TPaymentRecorded) =>
      recorded.replayed
        ? 'That payment was recorded already; it counts once.'
        : `Payment of ${formatMoney(recorded.entry.amount, { currency: recorded.entry.currency })} recorded.`,
  });
  return (
    <PanelSection title="Record payment">
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Record payment" noValidate>
        <TextField
          id="payment-amount"
          label={`Amount (${account.currency})`}
          inputMode="decimal"
          autoComplete="off"
          {...form.register('amount')}
          error={form.fields.amount}
        />
        <TextField
          id="payment-reference"
          label="Reference (optional)"
          autoComplete="off"
          {...form.register('reference')}
          error={form.fields.reference}
        />
        <FormMessage message={form.message ?? form.fields.idempotencyKey ?? null} />
        <Button type="submit" disabled={form.pending}>
          Record payment
        </Button>
        {dialog}
      </form>
    </PanelSection>
  );
}

/**
 * A correction of the balance: the ledger is never edited, so a payment typed wrong is
 * taken back by an adjustment and a disputed call given back by a credit note, each a new
 * entry with its reason. The confirmation says which way the balance moves.
 */
function CorrectBalance({ account }: { account: TMoneyAccount }) {
  const { confirm, dialog } = useConfirm();
  const { key, post } = useKeyedPost(account.id, 'adjustments', 'correction');
  const form = useSchemaForm({
    schema: ZAdjustmentCreate,
    defaultValues: { kind: 'credit_note', amount: '', reason: '' },
    toBody: (values) => ({
      kind: values.kind,
      amount: values.amount.trim(),
      currency: account.currency,
      reason: values.reason.trim(),
      idempotencyKey: key,
    }),
    submit: async (body) => {
      const debit = body.amount.startsWith('-');
      const size = body.amount.replace(/^-/, '');
      const sure = await confirm({
        title: `${body.kind === 'credit_note' ? 'Credit' : 'Adjust'} the balance of ${account.name}?`,
        consequence: `${formatMoney(size, { currency: account.currency })} is ${debit ? 'taken from' : 'added to'} ${account.name}'s balance and written to its ledger with the reason given, never edited afterwards.${debit ? ' If its credit runs out, calls are refused for it and for everything below it.' : ''}`,
        confirmLabel: body.kind === 'credit_note' ? 'Post credit note' : 'Post adjustment',
        danger: debit,
      });
      if (!sure) throw new SubmitCancelled();
      return post(body);
    },
    success: (recorded: TPaymentRecorded) =>
      recorded.replayed
        ? 'That correction was posted already; it counts once.'
        : `${KIND_LABEL[recorded.entry.kind]} of ${formatMoney(recorded.entry.amount, { currency: recorded.entry.currency })} posted.`,
  });
  return (
    <PanelSection title="Correct balance">
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Correct balance" noValidate>
        <SelectField label="Kind" id="correction-kind" {...form.register('kind')}>
          <option value="credit_note">Credit note (adds to the balance)</option>
          <option value="adjustment">Adjustment (either way; negative debits)</option>
        </SelectField>
        <TextField
          id="correction-amount"
          label={`Amount (${account.currency})`}
          inputMode="decimal"
          autoComplete="off"
          {...form.register('amount')}
          error={form.fields.amount}
        />
        <TextField
          id="correction-reason"
          label="Reason"
          autoComplete="off"
          {...form.register('reason')}
          error={form.fields.reason}
        />
        <FormMessage message={form.message ?? form.fields.idempotencyKey ?? null} />
        <Button type="submit" disabled={form.pending}>
          Post correction
        </Button>
        {dialog}
      </form>
    </PanelSection>
  );
}
