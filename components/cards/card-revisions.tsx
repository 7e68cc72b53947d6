'use client';

import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useApiMutation, useJoinedFetch } from '@/lib/client/use-resource';
import type { TCardDto, TCardOwnerDto } from '@/lib/shared/schemas/cards';
import type { TPage } from '@/lib/shared/schemas/common';
import {
  REVISION_CHANGES,
  type TRevisionChange,
  type TRevisionDiff,
  type TRevisionDto,
} from '@/lib/shared/schemas/revisions';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';
import { Button, ListState, SelectField, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, PanelSection } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { replaceRatesQuestion } from './replace-question';
import { RelativeTime } from '@/components/ui/relative-time';

const CHANGE_LABELS: Record<TRevisionChange, string> = {
  new: 'New',
  removed: 'Removed',
  increased: 'Increased',
  decreased: 'Decreased',
  changed: 'Other terms changed',
  unchanged: 'Unchanged',
};

/** `datetime-local` (the viewer's time zone) as an ISO instant; empty is "now". */
function instantOf(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

/**
 * A card's revisions (issue 16 §2): each with its state and date live, the diff of any
 * one against the one before it, scheduling an import for a later date, cancelling a
 * scheduled revision and rolling back to an earlier one (both confirmed). Live: the
 * lists hang under the card, so its changes refetch them.
 */
export function CardRevisions({ card, can }: { card: TCardDto; can: TCardAbilities }) {
  const key = queryKeys.under('cards', card.id, 'revisions');
  const joinedFetch = useJoinedFetch();
  const list = useQuery({
    queryKey: key,
    queryFn: ({ signal }) =>
      joinedFetch<TPage<TRevisionDto>>(pathOf(key, { limit: '100' }), { signal }),
  });
  const writable = card.relation === 'owner' && !card.parentId && can.editRates;
  const [shown, setShown] = useState<number | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const { confirm, dialog } = useConfirm();
  const cancel = useApiMutation<{ number: number }, unknown>(
    'DELETE',
    ({ number }) => `/cards/${card.id}/revisions/${number}`,
    [key],
    { success: (_, { number }) => `Revision ${number} cancelled.` },
  );
  const rollback = useApiMutation<{ number: number; liveAt?: string }, TRevisionDto>(
    'POST',
    ({ number }) => `/cards/${card.id}/revisions/${number}/rollback`,
    [key],
    {
      // The number is in the path; the body holds the date alone.
      body: ({ liveAt }) => (liveAt ? { liveAt } : {}),
      success: (made) =>
        `Revision ${made.number} copies revision ${made.basedOn}: ${
          made.state === 'live' ? 'live now' : 'scheduled'
        }.`,
    },
  );
  const [rollbackAt, setRollbackAt] = useState('');

  async function onCancel(revision: TRevisionDto) {
    setFailure(null);
    const sure = await confirm({
      title: `Cancel revision ${revision.number}?`,
      consequence: `Its rates will not go live; cards derived from this one drop their revision ${revision.number} too.`,
      confirmLabel: 'Cancel revision',
      danger: true,
    });
    if (!sure) return;
    try {
      await cancel.mutateAsync({ number: revision.number });
    } catch (error) {
      setFailure((error as Error).message);
    }
  }

  async function onRollback(revision: TRevisionDto) {
    setFailure(null);
    const liveAt = instantOf(rollbackAt);
    const sure = await confirm({
      title: `Roll back to revision ${revision.number}?`,
      consequence: `A copy of its ${revision.rows} rates becomes a new revision, live ${
        liveAt ? `at ${new Date(liveAt).toLocaleString()}` : 'now'
      }; cards derived from this one follow.`,
      confirmLabel: 'Roll back',
    });
    if (!sure) return;
    try {
      await rollback.mutateAsync({ number: revision.number, ...(liveAt ? { liveAt } : {}) });
    } catch (error) {
      setFailure((error as Error).message);
    }
  }

  const items = list.data?.items ?? [];
  return (
    <PanelSection title="Revisions">
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <div className="space-y-4">
          <ListState
            isLoading={list.isLoading}
            error={list.error}
            empty={items.length === 0}
            emptyText="No revisions yet."
          >
            <DataTable
              label="Revisions"
              headers={['#', 'State', 'Live at', 'Rows', 'Changes', '']}
              rows={items.map((revision) => [
                revision.number,
                <span key="state" data-testid={`revision-${revision.number}-state`}>
                  {revision.state}
                </span>,
                <RelativeTime key="at" at={revision.liveAt} />,
                revision.rows,
                `${revision.counts.increased} up, ${revision.counts.decreased} down, ${revision.counts.added} new, ${revision.counts.removed} removed`,
                <span key="actions" className="flex gap-2">
                  {revision.state !== 'cancelled' ? (
                    <button
                      type="button"
                      className="text-brand-700 underline"
                      onClick={() => setShown(revision.number)}
                    >
                      Diff<span className="sr-only"> of revision {revision.number}</span>
                    </button>
                  ) : null}
                  {writable && revision.state === 'scheduled' ? (
                    <button
                      type="button"
                      className="text-red-700 underline"
                      onClick={() => void onCancel(revision)}
                    >
                      Cancel<span className="sr-only"> revision {revision.number}</span>
                    </button>
                  ) : null}
                  {writable && revision.state === 'superseded' ? (
                    <button
                      type="button"
                      className="text-brand-700 underline"
                      onClick={() => void onRollback(revision)}
                    >
                      Roll back<span className="sr-only"> to revision {revision.number}</span>
                    </button>
                  ) : null}
                </span>,
              ])}
            />
          </ListState>
          <FormMessage message={failure} />
          {dialog}
          {/* A revision cancelled meanwhile has no rows to show. */}
          {items.some((revision) => revision.number === shown && revision.state !== 'cancelled') ? (
            <RevisionDiff cardId={card.id} number={shown!} currency={card.currency} />
          ) : null}
        </div>
        {writable || (card.relation === 'owner' && can.update) ? (
          <div className="space-y-6">
            {card.relation === 'owner' && can.update ? <NoticeForm card={card} /> : null}
            {writable ? <ScheduleImport cardId={card.id} cardName={card.name} /> : null}
            {writable ? (
              <TextField
                id="rollback-live-at"
                label="A roll back goes live at (empty: now)"
                name="rollbackAt"
                type="datetime-local"
                value={rollbackAt}
                onChange={(event) => setRollbackAt(event.target.value)}
              />
            ) : null}
          </div>
        ) : null}
      </div>
    </PanelSection>
  );
}

/** The notice a revision raising any rate must give; increases with less are refused. */
function NoticeForm({ card }: { card: TCardOwnerDto }) {
  const [hours, setHours] = useState(
    card.minNoticeHours === null ? '' : String(card.minNoticeHours),
  );
  const [message, setMessage] = useState<string | null>(null);
  const save = useApiMutation<{ version: number; minNoticeHours: number | null }, TCardOwnerDto>(
    'PATCH',
    `/cards/${card.id}`,
    [queryKeys.one('cards', card.id)],
    {
      success: (saved) =>
        saved.minNoticeHours === null
          ? 'No notice required for increases.'
          : `Increases need ${saved.minNoticeHours} hours' notice.`,
    },
  );
  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setMessage(null);
    const value = hours.trim();
    if (value !== '' && !/^\d{1,4}$/.test(value)) {
      setMessage('Minimum notice must be a whole number of hours.');
      return;
    }
    try {
      await save.mutateAsync({
        version: card.version,
        minNoticeHours: value === '' ? null : Number(value),
      });
    } catch (error) {
      setMessage((error as Error).message);
    }
  }
  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Minimum notice" noValidate>
      <TextField
        id="min-notice-hours"
        label="Minimum notice of increases (hours; empty: none)"
        name="minNoticeHours"
        inputMode="numeric"
        value={hours}
        onChange={(event) => setHours(event.target.value)}
      />
      <FormMessage message={message} />
      <Button type="submit" disabled={save.isPending}>
        Save notice
      </Button>
    </form>
  );
}

/** A revision against the one before it: counts per kind of change, and its rows by kind. */
function RevisionDiff({
  cardId,
  number,
  currency,
}: {
  cardId: string;
  number: number;
  currency: string;
}) {
  const [change, setChange] = useState<TRevisionChange | ''>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const key = queryKeys.under('cards', cardId, `revisions/${number}/diff`, {
    change: change || undefined,
    cursor,
  });
  const joinedFetch = useJoinedFetch();
  const diff = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => joinedFetch<TRevisionDiff>(pathOf(key, { limit: '50' }), { signal }),
  });
  const counts = diff.data?.counts;
  const terms = (side: TRevisionDiff['items'][number]['before']) =>
    side ? `${side.rate} ${currency}/min${side.blocked ? ' (blocked)' : ''}` : '—';
  return (
    <section aria-label={`Diff of revision ${number}`} className="space-y-3">
      <h3 className="text-sm font-semibold text-slate-700">
        Revision {number} against revision {diff.data?.revision.previous ?? '—'}
      </h3>
      {counts ? (
        <ul className="flex flex-wrap gap-3 text-sm" aria-label="Changes counted">
          <li data-testid="diff-increased">{counts.increased} increased</li>
          <li data-testid="diff-decreased">{counts.decreased} decreased</li>
          <li data-testid="diff-new">{counts.added} new</li>
          <li data-testid="diff-removed">{counts.removed} removed</li>
          <li>{counts.changed} other terms changed</li>
          <li>{counts.unchanged} unchanged</li>
        </ul>
      ) : null}
      <SelectField
        label="Show"
        name="change"
        value={change}
        onChange={(event) => {
          setChange(event.target.value as TRevisionChange | '');
          setCursors([]);
        }}
      >
        <option value="">Every changed row</option>
        {REVISION_CHANGES.map((kind) => (
          <option key={kind} value={kind}>
            {CHANGE_LABELS[kind]}
          </option>
        ))}
      </SelectField>
      <ListState
        isLoading={diff.isLoading}
        error={diff.error}
        empty={(diff.data?.items ?? []).length === 0}
        emptyText="No rows of this kind."
      >
        <DataTable
          label={`Rows of revision ${number}`}
          headers={['Prefix', 'Destination', 'Change', 'Before', 'After']}
          rows={(diff.data?.items ?? []).map((row) => [
            row.prefix,
            row.after?.destination ?? row.before?.destination ?? '',
            CHANGE_LABELS[row.change],
            terms(row.before),
            terms(row.after),
          ])}
        />
      </ListState>
      <div className="flex gap-3">
        {cursors.length ? (
          <Button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous rows
          </Button>
        ) : null}
        {diff.data?.nextCursor ? (
          <Button type="button" onClick={() => setCursors([...cursors, diff.data!.nextCursor!])}>
            Next rows
          </Button>
        ) : null}
      </div>
    </section>
  );
}

/**
 * A CSV import as a revision going live now or at a later date. A replace going live now
 * is asked first, as on the card page; one for a later date can be cancelled until then.
 */
function ScheduleImport({ cardId, cardName }: { cardId: string; cardName: string }) {
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, setPending] = useState(false);
  const { confirm, dialog } = useConfirm();
  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const file = data.get('file');
    if (!(file instanceof File) || file.size === 0) {
      setResult({ ok: false, text: 'Choose a CSV file first.' });
      return;
    }
    const liveAt = instantOf(String(data.get('liveAt') ?? ''));
    const mode = String(data.get('mode') ?? 'replace');
    if (
      mode === 'replace' &&
      !liveAt &&
      !(await confirm(replaceRatesQuestion(cardName, file.name)))
    ) {
      return;
    }
    const query = new URLSearchParams({ mode });
    if (liveAt) query.set('liveAt', liveAt);
    setPending(true);
    setResult(null);
    try {
      const response = await fetch(`/api/v1/cards/${cardId}/rates/import?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: file,
      });
      const body = await response.json().catch(() => null);
      if (response.ok) {
        const { number, state, counts } = body.revision;
        setResult({
          ok: true,
          text: `Revision ${number} ${state === 'live' ? 'is live' : `goes live ${new Date(body.revision.liveAt).toLocaleString()}`}: ${counts.increased} up, ${counts.decreased} down, ${counts.added} new, ${counts.removed} removed.`,
        });
      } else {
        const fields = body?.error?.fields as Record<string, string> | undefined;
        setResult({
          ok: false,
          text: fields?.liveAt
            ? `Date live ${fields.liveAt}.`
            : (body?.error?.message ?? `Import failed (${response.status}).`),
        });
      }
    } finally {
      setPending(false);
    }
  }
  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Schedule a revision" noValidate>
      {dialog}
      <h3 className="text-sm font-semibold text-slate-700">Schedule a revision (CSV)</h3>
      <div>
        <label htmlFor="revision-file" className="block text-sm font-medium text-slate-700">
          File (header: prefix,destination,rate,…)
        </label>
        <input
          id="revision-file"
          name="file"
          type="file"
          accept=".csv,text/csv"
          className="mt-1 text-sm"
        />
      </div>
      <SelectField label="Mode" name="mode" defaultValue="replace">
        <option value="replace">Replace every rate</option>
        <option value="merge">Merge (add and update)</option>
      </SelectField>
      <TextField
        id="revision-live-at"
        label="Goes live at (empty: now)"
        name="liveAt"
        type="datetime-local"
      />
      <Button type="submit" disabled={pending}>
        {pending ? 'Scheduling…' : 'Schedule'}
      </Button>
      {result ? (
        <p
          role={result.ok ? 'status' : 'alert'}
          className={`rounded-md px-3 py-2 text-sm ${result.ok ? 'bg-green-50 text-green-800' : 'bg-red-50 text-red-800'}`}
        >
          {result.text}
        </p>
      ) : null}
    </form>
  );
}
