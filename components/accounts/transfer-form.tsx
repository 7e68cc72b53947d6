'use client';

import { useWatch } from 'react-hook-form';
import { apiFetch } from '@/lib/client/api';
import { SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import { queryKeys } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import { ZTransfer, type TCardDto } from '@/lib/shared/schemas/cards';
import { Button, SelectField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { recordHref } from '@/components/ui/toast';

/**
 * The transfer wizard (DESIGN §1 "Customer moves"): the target account, the card the
 * customer gets there, a summary to confirm (a modal that names what moves where) —
 * then one atomic move, effective now.
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
  const resellers = usePagedList<TResellerDto>(queryKeys.list('resellers'));
  const cards = usePagedList<TCardDto>(queryKeys.list('cards'));
  const { confirm, dialog } = useConfirm();
  // Review checks the choice with the endpoint's schema; the move waits for the confirmation.
  const form = useSchemaForm({
    schema: ZTransfer,
    defaultValues: { toParentId: '', cardId: '' },
    toBody: (values) => values,
    submit: async (body) => {
      const to = names.get(body.toParentId) ?? 'the new parent';
      const billedOn = offered.find((item) => item.id === body.cardId)?.name ?? 'its new card';
      const sure = await confirm({
        title: `Transfer ${customer.name}?`,
        consequence: `Move ${customer.name} from ${names.get(customer.parentId) ?? 'its current parent'} to ${to}, billed on ${billedOn} from now on. Its current card ends now; the move is logged in the audit trail.`,
        confirmLabel: 'Confirm transfer',
        danger: true,
      });
      if (!sure) throw new SubmitCancelled();
      await apiFetch(`/customers/${customer.id}/transfer`, { method: 'POST', body });
      onDone();
    },
    success: (_, body) => ({
      message: `${customer.name} moved to ${names.get(body.toParentId) ?? 'its new parent'}.`,
      href: recordHref('customers', customer.id),
    }),
    resetOnSuccess: false,
  });
  const [targetId, cardId] = useWatch({
    control: form.form.control,
    name: ['toParentId', 'cardId'],
  });
  const targets = [own, ...(resellers.data ?? [])].filter(
    (account) => account.id !== customer.parentId,
  );
  const names = new Map(
    [own, ...(resellers.data ?? [])].map((account) => [account.id, account.name]),
  );
  const offered = (cards.data ?? []).filter(
    (card) => card.relation === 'owner' && card.kind === 'customer' && card.ownerId === targetId,
  );

  return (
    <form
      aria-label="Transfer customer"
      className="mt-6 space-y-3 border-t border-slate-200 pt-4"
      onSubmit={form.onSubmit}
      noValidate
    >
      <h3 className="text-sm font-semibold text-slate-700">Transfer to another account</h3>
      <SelectField
        id="transfer-target"
        label="Move to"
        {...form.register('toParentId', {
          onChange: () => form.form.setValue('cardId', ''),
        })}
        error={form.fields.toParentId}
      >
        <option value="">Choose the new parent…</option>
        {targets.map((account) => (
          <option key={account.id} value={account.id}>
            {account.name}
          </option>
        ))}
      </SelectField>
      <SelectField
        id="transfer-card"
        label="Card there"
        {...form.register('cardId')}
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
      <Button type="submit" disabled={!targetId || !cardId || form.pending}>
        Review transfer
      </Button>
      {dialog}
    </form>
  );
}
