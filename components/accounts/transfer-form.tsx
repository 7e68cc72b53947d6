'use client';

import { Money as Decimal } from '@/lib/shared/pricing/money';
import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { apiFetch } from '@/lib/client/api';
import { optional, SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import { AccountBelowPicker } from '@/components/pickers/account-below-picker';
import { ZTransfer, type TCardDto, type TTransferPreview } from '@/lib/shared/schemas/cards';
import { Button, SelectField, TextField } from '@/components/ui/field';
import { RecordPicker } from '@/components/pickers/record-picker';
import { FormMessage } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { recordHref } from '@/components/ui/toast';
import { TransferPreview } from './transfer-preview';
import { Money } from '@/components/ui/money';
import { formatMoney } from '@/lib/shared/format';

/**
 * The transfer wizard (DESIGN §1 "Customer moves"): the target account, the card the
 * customer gets there, a summary to confirm (the dry run: old and new card compared,
 * currency, balance and limit after, scheduled rate changes) — then one atomic move.
 */
export function TransferForm({
  customer,
  own,
  canMoveMoney,
  onDone,
}: {
  customer: TCustomerDto;
  own: { id: string; name: string };
  /** `payments:create`: settling or converting the balance moves money (the server's rule). */
  canMoveMoney: boolean;
  onDone: () => void;
}) {
  const { confirm, dialog } = useConfirm();
  // A balance that is not zero moves through the ledger, kept or settled: money.
  const hasBalance = !isZero(customer.balance);
  const mayMove = canMoveMoney || !hasBalance;
  // The target is searched on the server (any account in scope): its name comes with it.
  const [pickedName, setPickedName] = useState<string | null>(null);
  const [pickedCard, setPickedCard] = useState<string | null>(null);
  const [preview, setPreview] = useState<TTransferPreview | null>(null);
  // One per wizard: a retry after a lost answer is the same move, answered once.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  // Review checks the choice with the endpoint's schema; the move waits for the confirmation.
  const form = useSchemaForm({
    schema: ZTransfer,
    defaultValues: {
      toParentId: '',
      cardId: '',
      rate: '',
      balance: 'keep' as 'keep' | 'settle',
      idempotencyKey,
    },
    toBody: (values) => ({
      toParentId: values.toParentId,
      cardId: values.cardId,
      rate: optional(values.rate),
      balance: values.balance,
      // What the rate converts from: refused if an earlier transfer changed it meanwhile.
      fromCurrency: customer.currency,
      idempotencyKey: values.idempotencyKey,
    }),
    submit: async (body) => {
      // Two steps. Review: the dry run says what the move changes, shown on the page to
      // be read (not greyed out behind a dialog). Transfer, once the summary on screen is
      // this very choice's: the confirmation, then the move.
      const reviewed = preview !== null && answers(preview, body);
      // Read again at each step: the confirmation quotes the balance as it is now (calls
      // move it while the review is read), and the page's summary follows.
      const dryRun = await apiFetch<TTransferPreview>(
        `/customers/${customer.id}/transfer?dryRun=true`,
        { method: 'POST', body },
      );
      setPreview(dryRun);
      if (!reviewed || dryRun.currency.outcome === 'refused') throw new SubmitCancelled();
      const money = (amount: string | null, currency: string) =>
        amount === null ? '—' : formatMoney(amount, { currency });
      const to = pickedName ?? 'the new parent';
      const billedOn = pickedCard ?? 'its new card';
      const from = customer.parentName ?? 'its current parent';
      const before = money(dryRun.balance.from, dryRun.currency.from);
      const converted =
        dryRun.balance.outcome === 'settled'
          ? ` Its balance (${before}) is settled with ${from}: closed on its books by a ledger adjustment, so it starts at zero.`
          : dryRun.currency.outcome === 'converted'
            ? ` Its balance (${before} → ${money(dryRun.balance.to, dryRun.currency.to)}) and credit limit are converted at ${body.rate} (recorded in its ledger and the audit).`
            : // The dry run's balance, not the page's: a payment or calls since the page
              // last heard may have moved it off (or onto) zero.
              !isZero(dryRun.balance.from)
              ? ` Its balance (${before}) moves with it: closed on ${from}'s books and opened on ${to}'s by ledger adjustments.`
              : '';
      const sure = await confirm({
        title: `Transfer ${customer.name}?`,
        consequence: `Move ${customer.name} from ${from} to ${to}, billed on ${billedOn} from now on. Its current card ends now; the move is logged in the audit trail.${converted}`,
        confirmLabel: 'Confirm transfer',
        danger: true,
      });
      if (!sure) throw new SubmitCancelled();
      await apiFetch(`/customers/${customer.id}/transfer`, { method: 'POST', body });
      onDone();
    },
    success: () => ({
      message: `${customer.name} moved to ${pickedName ?? 'its new parent'}.`,
      href: recordHref('customers', customer.id),
    }),
    resetOnSuccess: false,
  });
  const [targetId, cardId, rate, balance] = useWatch({
    control: form.form.control,
    name: ['toParentId', 'cardId', 'rate', 'balance'],
  });
  // A summary answers one choice: another target, card, rate or balance needs a new one.
  const shown =
    preview && answers(preview, { toParentId: targetId, cardId, rate: optional(rate), balance })
      ? preview
      : null;

  return (
    <form
      aria-label="Transfer customer"
      className="mt-6 space-y-3 border-t border-slate-200 pt-4"
      onSubmit={form.onSubmit}
      noValidate
    >
      <h3 className="text-sm font-semibold text-slate-700">Transfer to another account</h3>
      <AccountBelowPicker
        id="transfer-target"
        label="Move to"
        local={[{ id: own.id, label: own.name, detail: 'your account' }]}
        exclude={customer.parentId}
        value={targetId}
        onChange={(id, name) => {
          form.form.setValue('toParentId', id);
          form.form.setValue('cardId', '');
          setPickedName(name);
        }}
        error={form.fields.toParentId}
      />
      {/* The target's own customer cards, searched on the server: any of them reachable. */}
      <RecordPicker
        key={targetId || 'none'}
        id="transfer-card"
        label="Card there"
        sources={[
          {
            resource: 'cards',
            filter: { kind: 'customer', ownerId: targetId },
            toOption: (item) => {
              const card = item as unknown as TCardDto;
              return card.relation === 'owner' && card.ownerId === targetId
                ? { id: card.id, label: card.name, detail: card.currency }
                : null;
            },
          },
        ]}
        value={cardId ?? ''}
        onChange={(id, option) => {
          form.form.setValue('cardId', id);
          setPickedCard(option?.label ?? null);
        }}
        error={form.fields.cardId}
        placeholder={targetId ? 'Search its customer cards…' : 'Choose where it moves first'}
        disabled={!targetId}
      />
      {canMoveMoney ? (
        <TextField
          id="transfer-rate"
          label={`Conversion rate from ${customer.currency} (only to an account in another currency)`}
          inputMode="decimal"
          autoComplete="off"
          {...form.register('rate')}
          error={form.fields.rate}
        />
      ) : null}
      <SelectField
        id="transfer-balance"
        label="Its balance"
        {...form.register('balance')}
        error={form.fields.balance}
      >
        <option value="keep">Keep it (moves with the customer; converted with the currency)</option>
        <option value="settle" disabled={!canMoveMoney}>
          Settle it with {customer.parentName ?? 'the current parent'} (starts at zero)
        </option>
      </SelectField>
      {canMoveMoney ? null : (
        <p className="text-xs text-slate-600">
          {hasBalance ? (
            <>
              Its balance (<Money amount={customer.balance} currency={customer.currency} />) moves
              from one parent&apos;s books to the other&apos;s whether kept or settled: that needs
              the payments grant, which your group does not have.
            </>
          ) : (
            'Settling or converting its balance moves money: that needs the payments grant, which your group does not have. It can move in its own currency with its balance kept.'
          )}
        </p>
      )}
      {shown ? <TransferPreview preview={shown} /> : null}
      <FormMessage message={form.message} />
      <Button type="submit" disabled={!mayMove || !targetId || !cardId || form.pending}>
        {shown && shown.currency.outcome !== 'refused'
          ? `Transfer ${customer.name}…`
          : 'Review transfer'}
      </Button>
      {dialog}
    </form>
  );
}

/** Whether a dry run's summary is the answer to this choice (target, card, rate, balance). */
function answers(
  preview: TTransferPreview,
  choice: { toParentId: string; cardId: string; rate?: string; balance?: 'keep' | 'settle' },
): boolean {
  return (
    preview.to.parentId === choice.toParentId &&
    preview.to.card.id === choice.cardId &&
    (preview.currency.rate ?? '') === (choice.rate ?? '') &&
    (preview.balance.outcome === 'settled') === (choice.balance === 'settle')
  );
}

/** A decimal string that is zero ("0", "-0.000000"). */
function isZero(amount: string): boolean {
  return new Decimal(amount).isZero();
}
