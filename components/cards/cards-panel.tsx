'use client';

import { useState } from 'react';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZCardCreate, type TCardDto } from '@/lib/shared/schemas/cards';
import type { UseFormRegisterReturn } from 'react-hook-form';
import type { TRoundingMode } from '@/lib/shared/pricing/money';
import { Button, ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, PanelSection } from '@/components/ui/panel-section';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';
import { CardDetail } from './card-detail';

/**
 * Rate cards (DESIGN §1 "Master mode" / "Reseller mode"): the account's provider cards —
 * its own upstream cards and every card assigned to it — and its customer cards, each
 * opening the card's rates, import/export, derive, assignments and margin report.
 */
export function CardsPanel({ accountId, can }: { accountId: string; can: TCardAbilities }) {
  const list = usePagedList<TCardDto>(queryKeys.list('cards'));
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const items = list.data ?? [];
  const selected = items.find((card) => card.id === selectedId) ?? null;
  const byId = new Map(items.map((card) => [card.id, card]));
  const open = (card: TCardDto) => (
    <button
      type="button"
      className="text-brand-700 underline"
      aria-label={`Open ${card.name}`}
      onClick={() => setSelectedId(card.id)}
    >
      Open
    </button>
  );
  const source = (card: TCardDto) =>
    card.relation === 'assigned'
      ? 'Assigned to you'
      : card.ownerId === accountId
        ? 'Own'
        : 'Below you';

  return (
    <div className="space-y-6">
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <div className="space-y-6">
          <PanelSection title="Provider cards">
            <ListState
              isLoading={list.isLoading}
              error={list.error}
              empty={!items.some((card) => card.kind === 'provider')}
            >
              <DataTable
                label="Provider cards"
                headers={['Name', 'Currency', 'Rates', 'Source', '']}
                rows={items
                  .filter((card) => card.kind === 'provider')
                  .map((card) => [
                    card.name,
                    card.currency,
                    card.rateCount,
                    source(card),
                    open(card),
                  ])}
              />
            </ListState>
          </PanelSection>
          <PanelSection title="Customer cards">
            <ListState
              isLoading={list.isLoading}
              error={list.error}
              empty={!items.some((card) => card.kind === 'customer')}
            >
              <DataTable
                label="Customer cards"
                headers={['Name', 'Currency', 'Rates', 'Follows', 'Losing rows', '']}
                rows={items
                  .filter((card) => card.kind === 'customer')
                  .map((card) => {
                    const owner = card.relation === 'owner' ? card : null;
                    const parent = owner?.parentId ? byId.get(owner.parentId) : undefined;
                    return [
                      card.name,
                      card.currency,
                      card.rateCount,
                      owner?.parentId ? (parent?.name ?? 'a card above') : '—',
                      owner && owner.losingRates > 0 ? (
                        <span className="font-semibold text-red-700">{owner.losingRates}</span>
                      ) : (
                        '0'
                      ),
                      open(card),
                    ];
                  })}
              />
            </ListState>
            <LoadMore list={list} />
          </PanelSection>
        </div>
        {can.create ? <CreateCardForm /> : null}
      </div>
      {selected ? (
        <CardDetail
          key={selected.id}
          card={selected}
          accountId={accountId}
          can={can}
          cards={items}
          onClose={() => setSelectedId(null)}
        />
      ) : null}
    </div>
  );
}

function CreateCardForm() {
  const create = useApiMutation<unknown, TCardDto>('POST', '/cards', [queryKeys.list('cards')], {
    success: createdToast('cards'),
  });
  const form = useSchemaForm({
    schema: ZCardCreate,
    defaultValues: {
      name: '',
      currency: '',
      kind: 'customer',
      decimals: '4',
      rounding: 'half_up' as TRoundingMode,
    },
    toBody: (values) => ({
      ...values,
      currency: values.currency.toUpperCase(),
      decimals: Number(values.decimals),
    }),
    submit: create.mutateAsync,
  });
  return (
    <PanelSection title="Add card">
      <form onSubmit={form.onSubmit} className="space-y-3" noValidate aria-label="Add card">
        <TextField label="Name" {...form.register('name')} error={form.fields.name} required />
        <TextField
          label="Currency"
          {...form.register('currency')}
          placeholder="EUR"
          maxLength={3}
          error={form.fields.currency}
          required
        />
        <SelectField label="Kind" {...form.register('kind')} error={form.fields.kind}>
          <option value="customer">Customer card (what you sell)</option>
          <option value="provider">Provider card (what you buy)</option>
        </SelectField>
        <SelectField label="Decimals" {...form.register('decimals')} error={form.fields.decimals}>
          <option value="4">4</option>
          <option value="5">5</option>
          <option value="6">6</option>
        </SelectField>
        <RoundingField field={form.register('rounding')} error={form.fields.rounding} />
        <FormMessage message={form.message} />
        <Button type="submit" disabled={form.pending}>
          Create card
        </Button>
      </form>
    </PanelSection>
  );
}

/** The rounding select; `field`: the form's `register('rounding')`. */
export function RoundingField({
  id,
  error,
  field,
}: {
  id?: string;
  error?: string;
  field: UseFormRegisterReturn<'rounding'>;
}) {
  return (
    <SelectField id={id} label="Rounding" {...field} error={error}>
      <option value="half_up">Half up</option>
      <option value="half_even">Half even</option>
      <option value="up">Up (never below)</option>
      <option value="down">Down</option>
    </SelectField>
  );
}
