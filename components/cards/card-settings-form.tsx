'use client';

import { queryKeys } from '@/lib/client/query-keys';
import { useApiMutation } from '@/lib/client/use-resource';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TRoundingMode } from '@/lib/shared/pricing/money';
import { ZCardPatch, type TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { DecimalsField, RoundingField } from './cards-panel';

/**
 * A card's own settings on its owner's side (`PATCH /cards/{id}`): its name, precision
 * and rounding, and the notice a raise must give. Only what was changed here is sent:
 * the server refuses a precision finer rates cannot keep, naming the field, and a
 * derived card recomputes its rates at the new precision and rounding.
 */
export function CardSettingsForm({ card }: { card: TCardOwnerDto }) {
  const save = useApiMutation<unknown, TCardOwnerDto>(
    'PATCH',
    `/cards/${card.id}`,
    [queryKeys.one('cards', card.id)],
    { success: (saved) => `${saved.name} saved.` },
  );
  const form = useSchemaForm({
    schema: ZCardPatch,
    defaultValues: {
      name: card.name,
      decimals: String(card.decimals),
      rounding: card.rounding as TRoundingMode,
      minNoticeHours: card.minNoticeHours === null ? '' : String(card.minNoticeHours),
    },
    toBody: (values) => {
      const notice = optional(values.minNoticeHours);
      const hours = notice === undefined ? null : Number(notice);
      return {
        version: card.version,
        name: values.name !== card.name ? values.name : undefined,
        decimals: Number(values.decimals) !== card.decimals ? Number(values.decimals) : undefined,
        rounding: values.rounding !== card.rounding ? values.rounding : undefined,
        minNoticeHours: hours !== card.minNoticeHours ? hours : undefined,
      };
    },
    submit: save.mutateAsync,
    resetOnSuccess: false,
  });
  return (
    <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Card settings" noValidate>
      <h3 className="text-sm font-semibold text-slate-700">Card settings</h3>
      <TextField
        id="card-settings-name"
        label="Name"
        {...form.register('name')}
        error={form.fields.name}
        required
      />
      <DecimalsField
        id="card-settings-decimals"
        field={form.register('decimals')}
        error={form.fields.decimals}
      />
      <RoundingField
        id="card-settings-rounding"
        field={form.register('rounding')}
        error={form.fields.rounding}
      />
      <TextField
        id="card-settings-notice"
        label="Notice of increases (hours; empty: none)"
        {...form.register('minNoticeHours')}
        inputMode="numeric"
        error={form.fields.minNoticeHours}
      />
      <FormMessage message={form.message} />
      <Button type="submit" disabled={form.pending}>
        Save settings
      </Button>
    </form>
  );
}
