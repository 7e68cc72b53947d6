'use client';

import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { useWatch } from 'react-hook-form';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZLookupQuery, type TLookup } from '@/lib/shared/schemas/rates';
import { Button, TextField } from '@/components/ui/field';
import { accountSources, RecordPicker } from '@/components/pickers/record-picker';
import { DataTable, FormMessage, PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { DateTime } from '@/components/ui/date-time';
import { formatCallLength } from '@/lib/shared/format';

/**
 * Price trace (DESIGN §1 "Rate lookup"): a dialled number for an account, priced at each
 * level of each chain the viewer may see — top (buy) first — with the margin per step.
 */
export function TracePanel({ account }: { account: { id: string; name: string } }) {
  // With what it answers: the form may hold another number (or a wrong one) by now.
  const [trace, setTrace] = useState<(TLookup & { at: string }) | null>(null);
  // `datetime-local` in the viewer's zone; empty prices now (the live rates).
  const [at, setAt] = useState('');
  // The lookup's own query schema checks the form; the trace stays until the next one.
  const form = useSchemaForm({
    schema: ZLookupQuery,
    defaultValues: { accountId: account.id, number: '', seconds: '60' },
    toBody: (values) => values,
    resetOnSuccess: false,
    reads: true,
    submit: async ({ accountId, number, seconds }) => {
      const query = new URLSearchParams({ accountId, number, seconds: String(seconds) });
      if (at) query.set('at', new Date(at).toISOString());
      try {
        const answer = await apiFetch<TLookup>(`/rates/lookup?${query}`);
        setTrace({ ...answer, at: at ? new Date(at).toISOString() : 'now' });
      } catch (error) {
        setTrace(null);
        throw error;
      }
    },
  });

  const accountId = useWatch({ control: form.form.control, name: 'accountId' });
  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_2fr]">
      <PanelSection title="Price trace">
        <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Price trace" noValidate>
          {/* Searched on the server: any account in scope, however many there are. */}
          <RecordPicker
            id="trace-account"
            label="Account"
            sources={accountSources({ resellers: true, customers: true })}
            local={[{ id: account.id, label: account.name, detail: 'your account' }]}
            value={accountId}
            onChange={(id) => form.form.setValue('accountId', id)}
            error={form.fields.accountId}
          />
          <TextField
            label="Dialled number"
            {...form.register('number')}
            inputMode="tel"
            placeholder="+44 1481 700123"
            error={form.fields.number}
            required
          />
          <TextField
            label="Call length (seconds)"
            {...form.register('seconds')}
            inputMode="numeric"
            error={form.fields.seconds}
          />
          <TextField
            id="trace-at"
            label="Priced at (empty: now)"
            name="at"
            type="datetime-local"
            value={at}
            onChange={(event) => setAt(event.target.value)}
          />
          <FormMessage message={form.message} />
          <Button type="submit" reads disabled={form.pending}>
            Trace
          </Button>
        </form>
      </PanelSection>
      <PanelSection title="Chain">
        {trace ? (
          <p className="mb-3 text-sm text-slate-700" data-testid="traced">
            Traced <span className="font-medium">{trace.number}</span>, a{' '}
            {formatCallLength(trace.seconds)} call, priced{' '}
            {trace.at === 'now' ? (
              'now'
            ) : (
              <>
                at <DateTime at={trace.at} />
              </>
            )}
            .
          </p>
        ) : null}
        {!trace ? (
          <p className="text-sm text-slate-500">Enter a number to see its price at each level.</p>
        ) : trace.movedAt ? (
          <p className="text-sm text-slate-600">
            This account was moved under its parent at <DateTime at={trace.movedAt} />: a call
            before then was its old parent’s and is not priced on this chain (it is left unrated, as
            moved).
          </p>
        ) : trace.chains.length === 0 ? (
          <p className="text-sm text-slate-500">This account holds no card.</p>
        ) : (
          <div className="space-y-4">
            {trace.chains.map((chain) => (
              <div key={chain.cardId}>
                <h3 className="text-sm font-medium text-slate-800">
                  {chain.levels.at(-1)?.cardName ?? 'Card'}
                </h3>
                <DataTable
                  label={`Chain of ${chain.levels.at(-1)?.cardName ?? 'card'}`}
                  headers={[
                    'Level',
                    'Card',
                    'Prefix',
                    'Rate/min',
                    'Billing',
                    `Billed (${trace.seconds} s)`,
                    'Amount',
                    'Margin',
                  ]}
                  rows={chain.levels.map((level, index) => [
                    index === 0 ? 'buy' : `sell ${index}`,
                    `${level.cardName}${level.relation === 'assignee' ? ' (your buy card)' : ''}`,
                    level.prefix ?? 'no match',
                    level.rate ? (
                      <>
                        <Money amount={level.rate} currency={level.currency} keepDecimals />
                        {level.blocked ? ' (blocked)' : ''}
                      </>
                    ) : (
                      '—'
                    ),
                    level.initialIncrement ? `${level.initialIncrement}/${level.increment}` : '—',
                    level.billedSeconds === null ? '—' : `${level.billedSeconds} s`,
                    <Money
                      key="amount"
                      amount={level.amount}
                      currency={level.currency}
                      keepDecimals
                    />,
                    level.margin === null ? (
                      '—'
                    ) : (
                      <span
                        className={level.margin.startsWith('-') ? 'font-semibold text-red-700' : ''}
                      >
                        <Money amount={level.margin} currency={level.currency} keepDecimals />
                      </span>
                    ),
                  ])}
                />
              </div>
            ))}
          </div>
        )}
      </PanelSection>
    </div>
  );
}
