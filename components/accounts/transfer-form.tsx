'use client';

import { useState } from 'react';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { usePagedList } from '@/lib/client/use-resource';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import type { TCardDto } from '@/lib/shared/schemas/cards';
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
  const resellers = usePagedList<TResellerDto>(queryKeys.list('resellers'));
  const cards = usePagedList<TCardDto>(queryKeys.list('cards'));
  const [targetId, setTargetId] = useState('');
  const [cardId, setCardId] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const targets = [own, ...(resellers.data ?? [])].filter(
    (account) => account.id !== customer.parentId,
  );
  const target = targets.find((account) => account.id === targetId);
  const names = new Map(
    [own, ...(resellers.data ?? [])].map((account) => [account.id, account.name]),
  );
  const offered = (cards.data ?? []).filter(
    (card) => card.relation === 'owner' && card.kind === 'customer' && card.ownerId === targetId,
  );
  const card = offered.find((item) => item.id === cardId);

  async function confirm() {
    setFields({});
    setMessage(null);
    try {
      await apiFetch(`/customers/${customer.id}/transfer`, {
        method: 'POST',
        body: { toParentId: targetId, cardId },
      });
      onDone();
    } catch (error) {
      setConfirming(false);
      if (error instanceof ApiClientError && Object.keys(error.fields).length)
        setFields(error.fields);
      else setMessage((error as Error).message);
    }
  }

  return (
    <form
      aria-label="Transfer customer"
      className="mt-6 space-y-3 border-t border-slate-200 pt-4"
      onSubmit={(event) => {
        event.preventDefault();
        setConfirming(true);
      }}
      noValidate
    >
      <h3 className="text-sm font-semibold text-slate-700">Transfer to another account</h3>
      <SelectField
        id="transfer-target"
        label="Move to"
        name="toParentId"
        value={targetId}
        error={fields.toParentId}
        onChange={(event) => {
          setTargetId(event.target.value);
          setCardId('');
          setConfirming(false);
        }}
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
        name="cardId"
        value={cardId}
        error={fields.cardId}
        disabled={!targetId}
        onChange={(event) => {
          setCardId(event.target.value);
          setConfirming(false);
        }}
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
      <FormMessage message={message} />
      {confirming && target && card ? (
        <div
          role="alertdialog"
          aria-label="Confirm transfer"
          className="space-y-3 rounded-md bg-amber-50 p-3 text-sm text-amber-900"
        >
          <p>
            Move <strong>{customer.name}</strong> from{' '}
            <strong>{names.get(customer.parentId) ?? 'its current parent'}</strong> to{' '}
            <strong>{target.name}</strong>, billed on <strong>{card.name}</strong> from now on. Its
            current card ends now; the move is logged in the audit trail.
          </p>
          <div className="flex gap-2">
            <Button type="button" onClick={() => void confirm()}>
              Confirm transfer
            </Button>
            <button
              type="button"
              className="text-sm underline"
              onClick={() => setConfirming(false)}
            >
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
