'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useWatch } from 'react-hook-form';
import { useQueries, useQuery } from '@tanstack/react-query';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useApiMutation, useJoinedFetch, usePagedList } from '@/lib/client/use-resource';
import { optional, SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import { apiFetch } from '@/lib/client/api';
import type { TPage } from '@/lib/shared/schemas/common';
import {
  deriveTerms,
  marginCheck,
  ruleFor,
  type TCompaction,
  type TMarginVerdict,
  type TMarkupRule,
} from '@/lib/shared/pricing/markup';
import type { TRoundingMode } from '@/lib/shared/pricing/money';
import {
  ZAssignmentCreate,
  ZCardDerive,
  type TAssignmentDto,
  type TCardDto,
  type TMarginReport,
} from '@/lib/shared/schemas/cards';
import type { TRateDto } from '@/lib/shared/schemas/rates';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';
import { formatCallLength } from '@/lib/shared/format';
import { Button, ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, ListCount, PanelSection } from '@/components/ui/panel-section';
import { DetailActions } from '@/components/live/detail-actions';
import { RatesTable } from './rates-table';
import { CardSettingsForm } from './card-settings-form';
import { CompareWithForm } from './compare-with-form';
import { RulesEditor, secondsOrNull, SellTermsForm } from './sell-terms';
import { RoundingField } from './cards-panel';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { replaceRatesQuestion } from './replace-question';
import { RateEditor } from './rate-editor';
import { recordHref } from '@/components/ui/toast';
import { Money, Percent } from '@/components/ui/money';
import { AccountBelowPicker } from '@/components/pickers/account-below-picker';

/**
 * One card: what the viewer may see of it (the owner's side everything, an assignee its
 * name, currency and rates), and the actions its grants and relation allow.
 */
export function CardDetail({
  card,
  accountId,
  customerView = false,
  can,
  onClose,
}: {
  card: TCardDto;
  accountId: string;
  /** A customer's people: its prices are what their calls are charged. */
  customerView?: boolean;
  can: TCardAbilities;
  onClose: () => void;
}) {
  const owner = card.relation === 'owner' ? card : null;
  const held = card.relation === 'assigned' || owner?.ownerId === accountId;
  // The card it follows, by id (not looked up in a first page of cards); one the viewer
  // may not read (404) stays "its parent card".
  const parentKey = queryKeys.one('cards', owner?.parentId ?? '');
  const joinedFetch = useJoinedFetch();
  const parent = useQuery({
    queryKey: parentKey,
    queryFn: ({ signal }) => joinedFetch<TCardDto>(pathOf(parentKey), { signal }),
    enabled: Boolean(owner?.parentId),
    retry: false,
  }).data;
  // Several parents: each by id too, to name the parent that priced a row.
  const parentNames = Object.fromEntries(
    useQueries({
      queries: (owner && owner.parentIds.length > 1 ? owner.parentIds : []).map((id) => ({
        queryKey: queryKeys.one('cards', id),
        queryFn: ({ signal }) =>
          joinedFetch<TCardDto>(pathOf(queryKeys.one('cards', id)), { signal }),
        retry: false,
      })),
    }).flatMap((query) => (query.data ? [[query.data.id, query.data.name]] : [])),
  );
  const [firstRates, setFirstRates] = useState<TRateDto[]>([]);
  // The row picked for editing in the rates table (null: the form adds a prefix).
  const [editing, setEditing] = useState<TRateDto | null>(null);
  const editsRates = Boolean(owner && !owner.parentId && can.editRates);
  return (
    <PanelSection
      title={`Card: ${card.name}`}
      actions={
        <DetailActions topic={`cards:${card.id}`} label="viewing this card" onClose={onClose} />
      }
    >
      <dl className="mb-4 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
        <dt className="text-slate-500">Currency</dt>
        <dd>{card.currency}</dd>
        <dt className="text-slate-500">Precision</dt>
        <dd>{card.decimals} decimals</dd>
        <dt className="text-slate-500">Rates</dt>
        <dd data-testid="card-rate-count">{card.rateCount}</dd>
        <dt className="text-slate-500">Your view</dt>
        <dd>
          {card.relation !== 'assigned'
            ? 'Owner'
            : customerView
              ? 'Your prices: what your calls are charged'
              : 'Assigned to you (your buy price)'}
        </dd>
        {owner ? (
          <>
            <dt className="text-slate-500">Rounding</dt>
            <dd>{owner.rounding.replace('_', ' ')}</dd>
            <dt className="text-slate-500">Follows</dt>
            <dd>
              {owner.markup ? (
                <>
                  {parent?.name ?? 'its parent card'}: +
                  <Percent value={owner.markup.percent ?? '0'} /> +
                  <Money amount={owner.markup.fixed ?? '0'} currency={card.currency} />
                  /min
                  {owner.markup.overrides.length
                    ? `, ${owner.markup.overrides.length} override(s)`
                    : ''}
                  {owner.markup.rules.length ? `, ${owner.markup.rules.length} rule(s)` : ''}
                  {owner.markup.fee ? ', fee marked up' : ''}
                  {owner.parentIds.length > 1
                    ? `, ${owner.parentIds.length} parents compacted: ${owner.compaction}`
                    : ''}
                  {owner.markup.minimumSeconds ? `, minimum ${owner.markup.minimumSeconds} s` : ''}
                  {owner.markup.initialIncrement !== null ||
                  owner.markup.increment !== null ||
                  owner.markup.graceSeconds !== null
                    ? `, bills ${owner.markup.initialIncrement ?? 'parent'}/${owner.markup.increment ?? 'parent'}` +
                      (owner.markup.graceSeconds !== null
                        ? ` grace ${owner.markup.graceSeconds} s`
                        : '')
                    : ''}
                </>
              ) : (
                '—'
              )}
            </dd>
            {/* Counted as a derived card's rows are priced; a card built by hand has its
                losses in the margin report, found when it is read (compareWith). */}
            {owner.parentId ? (
              <>
                <dt className="text-slate-500">Losing rows</dt>
                <dd className={owner.losingRates ? 'font-semibold text-red-700' : ''}>
                  {owner.losingRates}
                </dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
      {owner && owner.kind === 'customer' && !owner.parentId ? (
        // Rating charges every level of a call's chain up to the carrier's provider cost
        // (lib/server/services/usage/rate-batch.ts, chargedLevels): a customer card that
        // follows no card has nothing above it, so its calls are refused (`no_card`).
        <p
          role="note"
          className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900"
          data-testid="card-prices-no-calls"
        >
          This card follows no card above it, so calls priced on it are refused: nothing says what
          they cost above. Derive customer cards from a provider card (or from a card assigned to
          you) so every level of a call is charged.
        </p>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <div className="space-y-4">
          {can.readRates ? (
            <RatesTable
              card={card}
              showMargin={Boolean(owner?.parentId)}
              onLoaded={setFirstRates}
              parentNames={parentNames}
              onEdit={editsRates ? setEditing : undefined}
            />
          ) : (
            <p className="text-sm text-slate-500">Your group does not grant reading rates.</p>
          )}
          {(owner?.parentId || owner?.compareWith.length) && can.readRates ? (
            <MarginReport
              cardId={card.id}
              currency={card.currency}
              emptyText={
                owner.parentId
                  ? 'No row loses money on any call length.'
                  : 'No row sells below the provider cards it is compared with.'
              }
            />
          ) : null}
        </div>
        <div className="space-y-4">
          {editsRates ? (
            <RateEditor
              // Each picked row starts the form afresh with its values.
              key={editing ? `${editing.prefix}@${editing.effectiveFrom ?? ''}` : 'new'}
              card={card}
              editing={editing}
              onDone={() => setEditing(null)}
            />
          ) : null}
          {editsRates ? <ImportForm cardId={card.id} cardName={card.name} /> : null}
          {can.readRates ? (
            <a
              className="inline-block text-sm text-brand-700 underline"
              href={`/api/v1/cards/${card.id}/rates/export`}
              download
            >
              Export rates as CSV
            </a>
          ) : null}
          {/* Keyed by version (a saved change starts each afresh), each under a name of its
              own: siblings sharing a key were kept side by side by React. */}
          {owner && can.update ? (
            <CardSettingsForm key={`settings:${owner.version}`} card={owner} />
          ) : null}
          {owner && owner.kind === 'customer' && !owner.parentId && can.update ? (
            <CompareWithForm key={`compare:${owner.version}`} card={owner} />
          ) : null}
          {owner?.markup && can.update ? (
            <SellTermsForm key={`terms:${owner.version}`} card={owner} />
          ) : null}
          {held && can.create ? <DeriveForm card={card} sample={firstRates.slice(0, 5)} /> : null}
          {owner &&
          owner.kind === 'customer' &&
          owner.ownerId === accountId &&
          can.readAssignments ? (
            <Assignments cardId={card.id} accountId={accountId} can={can} />
          ) : null}
        </div>
      </div>
    </PanelSection>
  );
}

/**
 * CSV import: the whole file or nothing; every bad line listed with its reason. A
 * replace goes live at once and removes every prefix the file lacks, on this card and
 * on every card derived from it, so it is asked first (a merge only adds and updates).
 */
function ImportForm({ cardId, cardName }: { cardId: string; cardName: string }) {
  const [result, setResult] = useState<{
    ok: boolean;
    text: string;
    lines?: { line: number; reason: string }[];
  } | null>(null);
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
    const mode = String(data.get('mode') ?? 'replace');
    if (mode === 'replace' && !(await confirm(replaceRatesQuestion(cardName, file.name)))) {
      return;
    }
    setPending(true);
    setResult(null);
    try {
      const response = await fetch(
        `/api/v1/cards/${cardId}/rates/import?mode=${encodeURIComponent(mode)}`,
        { method: 'POST', headers: { 'content-type': 'text/csv' }, body: file },
      );
      const body = await response.json().catch(() => null);
      if (response.ok)
        setResult({ ok: true, text: `Imported: the card now has ${body.rows} rates.` });
      else
        setResult({
          ok: false,
          text: body?.error?.message ?? `Import failed (${response.status}).`,
          lines: body?.error?.lines,
        });
    } finally {
      setPending(false);
    }
  }
  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Import rates" noValidate>
      {dialog}
      <h3 className="text-sm font-semibold text-slate-700">Import rates (CSV)</h3>
      <div>
        <label htmlFor="field-file" className="block text-sm font-medium text-slate-700">
          File (header: prefix,destination,rate,…)
        </label>
        <input
          id="field-file"
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
      <Button type="submit" disabled={pending}>
        {pending ? 'Importing…' : 'Import'}
      </Button>
      {result ? (
        <div
          role={result.ok ? 'status' : 'alert'}
          className={`rounded-md px-3 py-2 text-sm ${result.ok ? 'bg-green-50 text-green-800' : 'bg-red-50 text-red-800'}`}
        >
          <p>{result.text}</p>
          {result.lines?.length ? (
            <ul aria-label="Bad lines" className="mt-2 max-h-48 list-disc overflow-y-auto pl-5">
              {result.lines.map((line, index) => (
                <li key={index}>
                  Line {line.line}: {line.reason}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

/**
 * Derive: a customer card of this account following this one. The preview prices the
 * first loaded rows with the same pricing core the server is held to.
 */
function DeriveForm({ card, sample }: { card: TCardDto; sample: TRateDto[] }) {
  const derive = useApiMutation<unknown, TCardDto>(
    'POST',
    `/cards/${card.id}/derive`,
    [queryKeys.list('cards')],
    {
      // The server's exact count over every row and call length, not the preview's sample.
      success: (made) => ({
        message:
          made.relation === 'owner' && made.losingRates > 0
            ? `Card ${made.name} derived from ${card.name}: ${made.losingRates} ${made.losingRates === 1 ? 'row loses' : 'rows lose'} money. Its margin report lists them.`
            : `Card ${made.name} derived from ${card.name}.`,
        href: recordHref('cards', made.id),
      }),
    },
  );
  const { confirm, dialog } = useConfirm();
  const form = useSchemaForm({
    schema: ZCardDerive,
    defaultValues: {
      name: '',
      markupPercent: '20',
      markupFixed: '',
      rounding: 'up' as TRoundingMode,
      initialIncrement: '',
      increment: '',
      graceSeconds: '',
      minimumSeconds: '',
      markupFee: false,
      rules: [] as TMarkupRule[],
      moreParents: [] as string[],
      compaction: 'lowest' as TCompaction,
    },
    toBody: (values) => ({
      name: values.name,
      markupPercent: optional(values.markupPercent),
      markupFixed: optional(values.markupFixed),
      rounding: values.rounding,
      initialIncrement: secondsOrNull(values.initialIncrement) ?? undefined,
      increment: secondsOrNull(values.increment) ?? undefined,
      graceSeconds: secondsOrNull(values.graceSeconds) ?? undefined,
      minimumSeconds: secondsOrNull(values.minimumSeconds) ?? undefined,
      markupFee: values.markupFee || undefined,
      rules: values.rules.length ? values.rules : undefined,
      moreParents: values.moreParents.length ? values.moreParents : undefined,
      compaction: values.moreParents.length ? values.compaction : undefined,
    }),
    // A markup that loses money on rows of the preview is asked about first: derived, the
    // card sells below its cost on those destinations as soon as it is assigned.
    submit: async (body) => {
      const losing = losingPreviewed.current;
      if (losing > 0) {
        const sure = await confirm({
          title: `Derive ${body.name} at a loss?`,
          consequence: `${losing} of the ${sample.length} rows previewed sell below what ${card.name} costs on some calls; more rows of the card may too. It can be derived and its markup fixed later, but any account it is assigned to is charged less than you pay.`,
          confirmLabel: 'Derive anyway',
          danger: true,
        });
        if (!sure) throw new SubmitCancelled();
      }
      return derive.mutateAsync(body);
    },
  });
  const losingPreviewed = useRef(0);
  const [
    percent,
    fixed,
    rounding,
    initialIncrement,
    increment,
    graceSeconds,
    minimumSeconds,
    markupFee,
    rules,
    moreParents,
  ] = useWatch({
    control: form.form.control,
    name: [
      'markupPercent',
      'markupFixed',
      'rounding',
      'initialIncrement',
      'increment',
      'graceSeconds',
      'minimumSeconds',
      'markupFee',
      'rules',
      'moreParents',
    ],
  });
  // Other cards of the same currency it may also follow (the server checks each again):
  // the live list CompareWithForm shows on the same page, under the same key and shape
  // (a plain query there held `{ items }` where the list expects pages: whichever read
  // first broke the other).
  const candidates = (
    usePagedList<TCardDto>(queryKeys.list('cards', { kind: 'provider' }), { pageSize: 100 }).data ??
    []
  ).filter((other) => other.id !== card.id && other.currency === card.currency);
  const preview = useMemo(() => {
    const markup = { percent, fixed, rounding };
    const seconds = (value: string) => {
      const parsed = secondsOrNull(value);
      return typeof parsed === 'number' && parsed >= 0 ? parsed : null;
    };
    try {
      const child = { decimals: card.decimals, rounding: markup.rounding };
      const parentRounding = card.relation === 'owner' ? card.rounding : 'half_up';
      let losing = 0;
      const rows = sample.map((row) => {
        const terms = { ...row };
        // Which rule priced the row, as the server will (ruleFor: the longest covering).
        const rule = ruleFor(
          row.prefix,
          rules.filter((candidate) => candidate.prefix && candidate.value),
        );
        const sell = deriveTerms(
          terms,
          {
            markupPercent: markup.percent || '0',
            markupFixed: markup.fixed || '0',
            markupFee,
            structure: {
              initialIncrement: seconds(initialIncrement) || null,
              increment: seconds(increment) || null,
              graceSeconds: seconds(graceSeconds),
              minimumSeconds: seconds(minimumSeconds),
            },
          },
          child,
          undefined,
          rule,
        );
        const check = marginCheck(
          { terms, card: { decimals: card.decimals, rounding: parentRounding } },
          { terms: sell, card: child },
        );
        if (check.losing) losing++;
        return [
          row.prefix,
          rule ? `${rule.prefix}: ${rule.mode} ${rule.value}` : 'card-wide',
          <Money key="buy" amount={row.rate} currency={card.currency} keepDecimals />,
          <Money key="sell" amount={sell.rate} currency={card.currency} keepDecimals />,
          check.losing ? <LosingText key="margin" check={check} currency={card.currency} /> : 'ok',
        ];
      });
      return { rows, losing };
    } catch {
      return { rows: [], losing: 0 };
    }
  }, [
    sample,
    percent,
    fixed,
    rounding,
    initialIncrement,
    increment,
    graceSeconds,
    minimumSeconds,
    markupFee,
    rules,
    card,
  ]);
  // What the submit's confirmation counts (it runs outside this render).
  useEffect(() => {
    losingPreviewed.current = preview.losing;
  }, [preview.losing]);
  return (
    <form
      onSubmit={form.onSubmit}
      className="space-y-3"
      aria-label="Derive a customer card"
      noValidate
    >
      <h3 className="text-sm font-semibold text-slate-700">Derive a customer card</h3>
      <TextField
        id="derive-name"
        label="Name"
        {...form.register('name')}
        error={form.fields.name}
        required
      />
      <TextField
        label="Markup %"
        {...form.register('markupPercent')}
        inputMode="decimal"
        error={form.fields.markupPercent}
      />
      <TextField
        label="Markup per minute"
        {...form.register('markupFixed')}
        inputMode="decimal"
        placeholder="0.0010"
        error={form.fields.markupFixed}
      />
      <RoundingField
        id="derive-rounding"
        field={form.register('rounding')}
        error={form.fields.rounding}
      />
      <div className="grid grid-cols-3 gap-2">
        <TextField
          label="Initial (s)"
          {...form.register('initialIncrement')}
          inputMode="numeric"
          placeholder="parent's"
          error={form.fields.initialIncrement}
        />
        <TextField
          label="Increment (s)"
          {...form.register('increment')}
          inputMode="numeric"
          placeholder="parent's"
          error={form.fields.increment}
        />
        <TextField
          label="Grace (s)"
          {...form.register('graceSeconds')}
          inputMode="numeric"
          placeholder="parent's"
          error={form.fields.graceSeconds}
        />
        <TextField
          label="Minimum (s)"
          {...form.register('minimumSeconds')}
          inputMode="numeric"
          placeholder="parent's"
          error={form.fields.minimumSeconds}
        />
      </div>
      {candidates.length ? (
        <fieldset className="space-y-1">
          <legend className="text-sm font-medium text-slate-700">
            Also follow (priority order after {card.name})
          </legend>
          {candidates.map((other) => (
            <label key={other.id} className="flex items-center gap-2 text-sm text-slate-700">
              <input
                type="checkbox"
                checked={moreParents.includes(other.id)}
                onChange={(event) =>
                  form.form.setValue(
                    'moreParents',
                    event.target.checked
                      ? [...moreParents, other.id]
                      : moreParents.filter((id) => id !== other.id),
                  )
                }
                className="h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500"
              />
              {other.name}
            </label>
          ))}
          {form.fields.moreParents ? (
            <p className="text-sm text-red-700">{form.fields.moreParents}</p>
          ) : null}
          {moreParents.length ? (
            <SelectField
              id="derive-compaction"
              label="Per prefix, price from"
              {...form.register('compaction')}
              error={form.fields.compaction}
            >
              <option value="lowest">the cheapest parent</option>
              <option value="highest">the dearest parent</option>
              <option value="average">the average (checked against the dearest)</option>
              <option value="first">the first parent that prices it</option>
            </SelectField>
          ) : null}
        </fieldset>
      ) : null}
      <div className="flex items-center gap-2">
        <input
          id="derive-markup-fee"
          type="checkbox"
          {...form.register('markupFee')}
          className="h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500"
        />
        <label htmlFor="derive-markup-fee" className="text-sm text-slate-700">
          Mark up the connection fee too
        </label>
      </div>
      <RulesEditor
        idPrefix="derive"
        rules={rules}
        onChange={(next) => form.form.setValue('rules', next)}
      />
      {preview.rows.length ? (
        <DataTable
          label="Markup preview"
          headers={['Prefix', 'Rule', 'Buy', 'Sell', 'Margin']}
          rows={preview.rows}
        />
      ) : null}
      <FormMessage message={form.message} />
      <Button type="submit" disabled={form.pending}>
        Derive
      </Button>
      {dialog}
    </form>
  );
}

/** Who holds this card, and giving it to an account directly below. */
function Assignments({
  cardId,
  accountId,
  can,
}: {
  cardId: string;
  accountId: string;
  can: TCardAbilities;
}) {
  const [sort, setSort] = useState<string | undefined>(undefined);
  const held = usePagedList<TAssignmentDto>(queryKeys.list('assignments', { cardId, sort }));
  const assign = useApiMutation<unknown, TAssignmentDto>(
    'POST',
    '/assignments',
    [queryKeys.list('assignments', { cardId })],
    {
      success: (made) => ({
        message: `Card assigned to ${made.accountName}.`,
        href: recordHref(
          made.accountKind === 'customer' ? 'customers' : 'resellers',
          made.accountId,
        ),
      }),
    },
  );
  const { confirm, dialog } = useConfirm();
  const form = useSchemaForm({
    schema: ZAssignmentCreate,
    defaultValues: { accountId: '' },
    toBody: (values) => ({ cardId, accountId: values.accountId }),
    submit: async (body) => {
      // A customer holds one card: assigning this one replaces the one it is billed on
      // now, a change of every price it pays, so that is asked first.
      const holding = await apiFetch<TPage<TAssignmentDto>>(
        `/assignments?${new URLSearchParams({ accountId: body.accountId, limit: '5' })}`,
      );
      const current = holding.items.find(
        (item) => item.accountKind === 'customer' && item.cardId !== cardId,
      );
      if (
        current &&
        !(await confirm({
          title: `Replace ${current.accountName}'s card?`,
          consequence: `${current.accountName} is billed on ${current.cardName} now; from now on its calls are priced on this card instead.`,
          confirmLabel: 'Replace card',
          danger: true,
        }))
      ) {
        throw new SubmitCancelled();
      }
      return assign.mutateAsync(body);
    },
  });
  const [removing, setRemoving] = useState<string | null>(null);
  const unassign = useApiMutation<{ id: string; holder: string }, unknown>(
    'DELETE',
    (row) => `/assignments/${row.id}`,
    [queryKeys.list('assignments', { cardId })],
    { success: (_, { holder }) => `Card removed from ${holder}.` },
  );
  async function remove(row: TAssignmentDto) {
    setRemoving(null);
    const holder = row.accountName;
    const sure = await confirm({
      title: `Remove this card from ${holder}?`,
      consequence:
        row.accountKind === 'customer'
          ? `${holder} is no longer billed on this card and has no card until it is given another.`
          : `${holder} no longer holds this card: it leaves its provider cards and it cannot derive from it.`,
      confirmLabel: 'Remove',
      danger: true,
    });
    if (!sure) return;
    try {
      await unassign.mutateAsync({ id: row.id, holder });
    } catch (error) {
      setRemoving((error as Error).message);
    }
  }
  return (
    <div className="space-y-3">
      <h3 className="text-sm font-semibold text-slate-700">Assigned to</h3>
      <ListState
        isLoading={held.isLoading}
        error={held.error}
        empty={(held.data ?? []).length === 0}
      >
        <ListCount
          shown={(held.data ?? []).length}
          total={held.data?.total}
          updating={held.isPlaceholderData && held.isFetching}
        />
        <DataTable
          label="Assignments"
          sort={{ value: sort, onChange: setSort }}
          headers={[{ label: 'Account', sort: 'accountName' }, 'Kind', '']}
          rows={(held.data ?? []).map((row) => [
            <PanelLink
              key="account"
              className="text-brand-700 underline"
              href={`/${row.accountKind === 'customer' ? 'customers' : 'resellers'}/${row.accountId}`}
            >
              {row.accountName}
            </PanelLink>,
            row.accountKind,
            can.unassign ? (
              <button
                type="button"
                className="text-brand-700 underline"
                onClick={() => void remove(row)}
              >
                Remove
              </button>
            ) : null,
          ])}
        />
        <LoadMore list={held} />
      </ListState>
      <FormMessage message={removing} />
      {dialog}
      {can.assign ? (
        <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Assign card" noValidate>
          <AccountBelowPicker
            id={`assign-${cardId}`}
            label="Assign to"
            parentId={accountId}
            value={form.form.watch('accountId')}
            onChange={(id) => form.form.setValue('accountId', id)}
            error={form.fields.accountId ?? form.fields.cardId}
          />
          <FormMessage message={form.message} />
          <Button type="submit" disabled={form.pending}>
            Assign
          </Button>
        </form>
      ) : null}
    </div>
  );
}

/** Where a row loses money, in words: its first losing call and its worst loss. */
function LosingText({
  check,
  currency,
}: {
  check: Pick<
    TMarginVerdict,
    'firstLosingSeconds' | 'worstLoss' | 'worstLossSeconds' | 'sellsBelowBuyRate'
  >;
  currency: string;
}) {
  const parts: string[] = [];
  if (check.sellsBelowBuyRate) parts.push('sell rate below the buy rate');
  if (check.firstLosingSeconds !== null) {
    parts.push(`from ${formatCallLength(check.firstLosingSeconds)} calls`);
  }
  return (
    <span>
      loses: {parts.join(', ')}
      {check.worstLoss !== null ? (
        <>
          {parts.length ? ', ' : ''}worst −
          <Money amount={check.worstLoss} currency={currency} keepDecimals /> on a{' '}
          {check.worstLossSeconds === null ? '' : formatCallLength(check.worstLossSeconds)} call
        </>
      ) : null}
    </span>
  );
}

/** The rows of a derived card that lose money, with their first losing call and worst loss. */
function MarginReport({
  cardId,
  currency,
  emptyText,
}: {
  cardId: string;
  currency: string;
  emptyText: string;
}) {
  const marginKey = queryKeys.under('cards', cardId, 'margin');
  const joinedFetch = useJoinedFetch();
  const report = useQuery({
    // Under the card: the live cache refetches it when this card's rates change.
    queryKey: marginKey,
    queryFn: ({ signal }) =>
      joinedFetch<TMarginReport>(pathOf(marginKey, { limit: '100' }), { signal }),
  });
  const items = report.data?.items ?? [];
  return (
    <div>
      <h3 className="mb-2 text-sm font-semibold text-slate-700">
        Margin report{report.data ? `: ${report.data.total} losing row(s)` : ''}
      </h3>
      <ListState
        isLoading={report.isLoading}
        error={report.error}
        empty={items.length === 0}
        emptyText={emptyText}
      >
        <DataTable
          label="Losing rows"
          headers={['Prefix', 'Destination', 'Bought at', 'Loses']}
          rows={items.map((row) => [
            row.prefix,
            row.destination,
            // The buy row it loses against: for a card built by hand, possibly a
            // provider's longer prefix under this row, which the row's price also sells.
            <span key="bought">
              {row.pricedBy.cardName} {row.pricedBy.prefix} at{' '}
              <Money amount={row.buy.rate} currency={currency} keepDecimals />
            </span>,
            <LosingText key="margin" check={row} currency={currency} />,
          ])}
        />
      </ListState>
    </div>
  );
}
