'use client';

import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { apiFetch } from '@/lib/client/api';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { queryKeys } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import { AccountBelowPicker } from '@/components/pickers/account-below-picker';
import { ZTransfer, type TCardDto, type TTransfer } from '@/lib/shared/schemas/cards';
import { Button, SelectField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/**
 * The transfer wizard (DESIGN §1 "Customer moves"): the target account, the card the
 * customer gets there, a summary to confirm — then one atomic move, effective now.
 */
export function TransferForm({
  customer,
  own,
  onDone,
}: {
  customer: TCustomerDto;
  own: { id: string; name: string };
  onDone: () => void;
}) {
  // Review checks the choice with the endpoint's schema; Confirm sends what was reviewed.
  const [reviewed, setReviewed] = useState<TTransfer | null>(null);
  const form = useSchemaForm({
    schema: ZTransfer,
    defaultValues: { toParentId: '', cardId: '' },
    toBody: (values) => values,
    submit: async (body) => setReviewed(body),
    resetOnSuccess: false,
  });
  const [targetId, cardId] = useWatch({
    control: form.form.control,
    name: ['toParentId', 'cardId'],
  });
  // The target is searched on the server (any account in scope): its name comes with it.
  const [pickedName, setPickedName] = useState<string | null>(null);
  const target = targetId && pickedName ? { id: targetId, name: pickedName } : undefined;
  // The target's own customer cards, asked of the server (not a page of every card).
  const cards = usePagedList<TCardDto>(
    queryKeys.list('cards', { kind: 'customer', ownerId: targetId }),
    { enabled: Boolean(targetId) },
  );
  const offered = (cards.data ?? []).filter(
    (card) => card.relation === 'owner' && card.kind === 'customer' && card.ownerId === targetId,
  );
  const card = offered.find((item) => item.id === cardId);

  async function confirm(body: TTransfer) {
    try {
      await apiFetch(`/customers/${customer.id}/transfer`, { method: 'POST', body });
      onDone();
    } catch (error) {
      setReviewed(null);
      form.refused(error);
    }
  }

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
          setReviewed(null);
        }}
        error={form.fields.toParentId}
      />
      <SelectField
        id="transfer-card"
        label="Card there"
        {...form.register('cardId', { onChange: () => setReviewed(null) })}
        error={form.fields.cardId}
        disabled={!targetId}
      >
        <option value="">
          {targetId && !offered.length ? 'That account has no customer card' : 'Choose its card…'}
        </option>
        {offered.map((item) => (
          <option key={item.id} value={item.id}>
            {item.name} ({item.currency})
          </option>
        ))}
      </SelectField>
      <FormMessage message={form.message} />
      {reviewed && target && card ? (
        <div
          role="alertdialog"
          aria-label="Confirm transfer"
          className="space-y-3 rounded-md bg-amber-50 p-3 text-sm text-amber-900"
        >
          <p>
            Move <strong>{customer.name}</strong> from <strong>{customer.parentName}</strong> to{' '}
            <strong>{target.name}</strong>, billed on <strong>{card.name}</strong> from now on. Its
            current card ends now; the move is logged in the audit trail.
          </p>
          <div className="flex gap-2">
            <Button type="button" onClick={() => void confirm(reviewed)}>
              Confirm transfer
            </Button>
            <button type="button" className="text-sm underline" onClick={() => setReviewed(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <Button type="submit" disabled={!targetId || !cardId}>
          Review transfer
        </Button>
      )}
    </form>
  );
}
