'use client';

import { useState, type FormEvent } from 'react';
import { queryKeys } from '@/lib/client/query-keys';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import type { TCardDto, TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { Button, ListState } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/** As many provider cards as `compareWith` takes (the schema's limit). */
const MAX_COMPARED = 10;

/**
 * Profit assurance for a customer card built by hand (issue 16 §3), on its owner's side:
 * the provider cards in its currency its rows must never sell below — each row checked on
 * every number it sells and every call length (the margin report below lists those that
 * do, and a row that starts losing raises a margin alert). The choice is sent in the
 * list's order, which breaks ties between equal provider rates.
 */
export function CompareWithForm({ card }: { card: TCardOwnerDto }) {
  // Provider cards in scope, the caller's own and those assigned to it (its buy side).
  const providers = usePagedList<TCardDto>(queryKeys.list('cards', { kind: 'provider' }), {
    pageSize: 100,
  });
  const choices = (providers.data ?? []).filter(
    (one) => one.id !== card.id && one.currency === card.currency,
  );
  const [picked, setPicked] = useState<ReadonlySet<string>>(() => new Set(card.compareWith));
  const save = useApiMutation<unknown, TCardOwnerDto>(
    'PATCH',
    `/cards/${card.id}`,
    [queryKeys.one('cards', card.id), queryKeys.under('cards', card.id, 'margin')],
    { success: (saved) => `${saved.name}: compared with ${saved.compareWith.length} card(s).` },
  );
  // Those picked before and no longer listed (out of reach now) stay until unticked.
  const listed = new Set(choices.map((one) => one.id));
  const unlisted = card.compareWith.filter((id) => picked.has(id) && !listed.has(id));

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const compareWith = [
      ...choices.filter((one) => picked.has(one.id)).map((one) => one.id),
      ...unlisted,
    ];
    await save.mutateAsync({ version: card.version, compareWith }).catch(() => undefined);
  }

  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Compare with" noValidate>
      <fieldset className="space-y-2">
        <legend className="text-sm font-semibold text-slate-700">
          Compare with provider cards
        </legend>
        <p className="text-xs text-slate-600">
          Rows selling below the cheapest of these on any number or call length are listed in the
          margin report and raise a margin alert. Equal rates: the first listed counts.
        </p>
        <ListState
          isLoading={providers.isLoading}
          error={providers.error}
          empty={choices.length === 0 && unlisted.length === 0}
          emptyText={`No provider card in ${card.currency} to compare with.`}
        >
          <ul className="space-y-1">
            {choices.map((one) => (
              <li key={one.id}>
                <label className="flex items-center gap-2 text-sm text-slate-700">
                  <input
                    type="checkbox"
                    className="h-4 w-4"
                    checked={picked.has(one.id)}
                    disabled={!picked.has(one.id) && picked.size >= MAX_COMPARED}
                    onChange={(event) => {
                      const next = new Set(picked);
                      if (event.target.checked) next.add(one.id);
                      else next.delete(one.id);
                      setPicked(next);
                    }}
                  />
                  {one.name}
                  {one.relation === 'assigned' ? (
                    <span className="text-xs text-slate-500">(assigned to you)</span>
                  ) : null}
                </label>
              </li>
            ))}
          </ul>
        </ListState>
        {unlisted.length ? (
          <p className="text-xs text-slate-600">
            {unlisted.length} card(s) no longer in reach stay compared until saved without them.{' '}
            <button
              type="button"
              className="text-brand-700 underline"
              onClick={() => setPicked(new Set([...picked].filter((id) => listed.has(id))))}
            >
              Drop them
            </button>
          </p>
        ) : null}
      </fieldset>
      <FormMessage message={save.error instanceof Error ? save.error.message : null} />
      <Button type="submit" disabled={save.isPending}>
        Save comparison
      </Button>
    </form>
  );
}
