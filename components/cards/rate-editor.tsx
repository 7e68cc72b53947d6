'use client';

import { useEffect, useRef, useState } from 'react';
import { ApiClientError, apiFetch, type TPageOf } from '@/lib/client/api';
import { useApiMutation } from '@/lib/client/use-resource';
import { optional, SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TRatesWritten } from '@/lib/shared/schemas/cards';
import {
  ZRatePatchRow,
  type TRateDto,
  type TRateKey,
  type TRatePatchRow,
} from '@/lib/shared/schemas/rates';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { DateTime } from '@/components/ui/date-time';
import { serverNow } from '@/lib/client/server-clock';

/** The form's text, as typed: the schema parses it (numbers, defaults) when it is sent. */
interface TRateValues {
  prefix: string;
  destination: string;
  rate: string;
  connectionFee: string;
  initialIncrement: string;
  increment: string;
  graceSeconds: string;
  minimumSeconds: string;
  blocked: boolean;
  /** When the change goes live (`datetime-local`, the viewer's zone); empty: now. */
  liveAt: string;
}

const EMPTY: TRateValues = {
  prefix: '',
  destination: '',
  rate: '',
  connectionFee: '',
  initialIncrement: '60',
  increment: '60',
  graceSeconds: '0',
  minimumSeconds: '',
  blocked: false,
  liveAt: '',
};

/**
 * One rate added or changed by hand (`PATCH /cards/{id}/rates`, `upsert`), or taken out
 * (`remove`, asked first): the rest of the card's set stays, and the cards derived from
 * it follow at once. `editing` is a row picked in the rates table (its values filled in,
 * a dated row kept at its date); without it, a new prefix. The form is checked by the
 * row's own schema; the server's refusals of `upsert.0.<field>` land under the field.
 */
export function RateEditor({
  card,
  editing,
  onDone,
}: {
  card: { id: string; name: string; currency: string; version: number };
  editing: TRateDto | null;
  onDone: () => void;
}) {
  const { confirm, dialog } = useConfirm();
  const heading = useRef<HTMLHeadingElement>(null);
  // The card's version when the form was opened, sent with the change: a colleague's
  // write to the card since is a 409, shown, instead of this form's older values silently
  // putting back what they changed (DESIGN §2: a stale update never overwrites).
  const [openedAt, setOpenedAt] = useState(card.version);
  const [changedSince, setChangedSince] = useState<string | null>(null);
  const save = useApiMutation<
    { upsert: [TRatePatchRow]; liveAt?: string; version?: number },
    TRatesWritten
  >('PATCH', `/cards/${card.id}/rates`, [], {
    success: (result, body) =>
      result.revision.state === 'scheduled'
        ? `${body.upsert[0].prefix} on ${card.name}: goes live ${new Date(result.revision.liveAt).toLocaleString()}.`
        : `${body.upsert[0].prefix} saved on ${card.name}.`,
  });
  // Said in the form when the row was picked; whether it is in force is asked again when
  // it is saved (`toBody`), and the server's clock has the last word.
  const [pickedAt] = useState(() => serverNow());
  const inForce = Boolean(editing?.effectiveFrom && Date.parse(editing.effectiveFrom) <= pickedAt);
  const remove = useApiMutation<{ key: TRateKey; version: number }, TRatesWritten>(
    'PATCH',
    `/cards/${card.id}/rates`,
    [],
    {
      body: ({ key, version }) => ({ remove: [key], version }),
      success: (_, { key }) => `${key.prefix} removed from ${card.name}.`,
    },
  );
  const form = useSchemaForm({
    schema: ZRatePatchRow,
    defaultValues: editing ? valuesOf(editing) : EMPTY,
    toBody: (values: TRateValues) => ({
      prefix: values.prefix,
      destination: values.destination,
      rate: values.rate,
      connectionFee: optional(values.connectionFee),
      initialIncrement: optional(values.initialIncrement),
      increment: optional(values.increment),
      graceSeconds: optional(values.graceSeconds),
      minimumSeconds: optional(values.minimumSeconds),
      blocked: values.blocked,
      // A dated row still to come is changed at its date. One in force cannot be (a
      // revision is not retroactive), nor does an undated row apply over it: its new terms
      // are a row dated "now" (the server's moment of writing). A new row applies always.
      effectiveFrom:
        editing?.effectiveFrom && editing.prefix === values.prefix
          ? hasPassed(editing.effectiveFrom)
            ? 'now'
            : editing.effectiveFrom
          : undefined,
    }),
    submit: async (row) => {
      const known = editing && editing.prefix === row.prefix;
      if (!known && !(await confirm(addQuestion(card.name, row.prefix)))) {
        throw new SubmitCancelled();
      }
      // Later, with the card's notice of increases, or after a revision already scheduled.
      const local = form.form.getValues('liveAt');
      const liveAt = local ? new Date(local).toISOString() : undefined;
      await save
        // A new prefix has no older values to put back: only an edit is held to the version.
        .mutateAsync({
          upsert: [row],
          ...(known ? { version: openedAt } : {}),
          ...(liveAt ? { liveAt } : {}),
        })
        .catch(async (error: unknown) => {
          if (isStale(error)) {
            await showChangedSince(error, row.prefix);
            throw new SubmitCancelled();
          }
          throw asRowError(error);
        });
      onDone();
    },
  });
  // A row picked in the table: the form takes the focus (on a narrow screen it is below).
  useEffect(() => {
    if (!editing) return;
    heading.current?.scrollIntoView?.({ block: 'nearest' });
    heading.current?.focus({ preventScroll: true });
  }, [editing]);

  /** Someone wrote the card first: say what the row holds now, and take their version. */
  async function showChangedSince(error: ApiClientError, prefix: string) {
    const current = error.current as { version?: number } | undefined;
    if (current?.version) setOpenedAt(current.version);
    setChangedSince(await termsNow(card, prefix, editing?.effectiveFrom ?? null));
  }

  async function removeRow() {
    if (!editing) return;
    const asked = await confirm({
      title: `Remove ${editing.prefix} from ${card.name}?`,
      consequence: `Calls to ${editing.destination} (${editing.prefix}) are then priced by a shorter prefix, or not routed at all, on this card and every card derived from it — from now on.`,
      confirmLabel: 'Remove rate',
      danger: true,
    });
    if (!asked) return;
    try {
      await remove.mutateAsync({
        key: {
          prefix: editing.prefix,
          ...(editing.effectiveFrom ? { effectiveFrom: editing.effectiveFrom } : {}),
        },
        version: openedAt,
      });
      onDone();
    } catch (error) {
      if (isStale(error)) await showChangedSince(error, editing.prefix);
      else form.refused(error);
    }
  }

  return (
    <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Edit a rate" noValidate>
      {dialog}
      <h3
        ref={heading}
        tabIndex={-1}
        className="text-sm font-semibold text-slate-700 focus:outline-none"
      >
        {editing ? `Change ${editing.prefix} (${editing.destination})` : 'Add or change a rate'}
      </h3>
      <p className="text-xs text-slate-500">
        Goes live now, or when you set, on this card and the cards derived from it; the other rates
        stay.
        {editing?.effectiveFrom ? (
          inForce ? (
            <>
              {' '}
              This row has applied since <DateTime at={editing.effectiveFrom} />: saved, its new
              terms apply from now on, as a row dated now (the earlier one stays in the card's
              history of prices).
            </>
          ) : (
            <>
              {' '}
              This row takes effect from <DateTime at={editing.effectiveFrom} />.
            </>
          )
        ) : null}
      </p>
      {changedSince !== null ? (
        <p
          role="alert"
          data-testid="rate-changed-since"
          className="rounded-md border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900"
        >
          Someone else changed this card&apos;s rates after you opened this form; nothing of yours
          was written. {changedSince} Check the fields, then save again to apply yours over theirs.
        </p>
      ) : null}
      <div className="grid grid-cols-2 gap-3">
        <TextField
          id="rate-edit-prefix"
          label="Prefix"
          inputMode="numeric"
          {...form.register('prefix')}
          error={form.fields.prefix}
          required
        />
        <TextField
          id="rate-edit-destination"
          label="Destination"
          {...form.register('destination')}
          error={form.fields.destination}
          required
        />
        <TextField
          id="rate-edit-rate"
          label={`Rate per minute (${card.currency})`}
          inputMode="decimal"
          {...form.register('rate')}
          error={form.fields.rate}
          required
        />
        <TextField
          id="rate-edit-fee"
          label={`Connection fee (${card.currency})`}
          inputMode="decimal"
          {...form.register('connectionFee')}
          error={form.fields.connectionFee}
        />
        <TextField
          id="rate-edit-initial"
          label="First increment (s)"
          inputMode="numeric"
          {...form.register('initialIncrement')}
          error={form.fields.initialIncrement}
        />
        <TextField
          id="rate-edit-increment"
          label="Then every (s)"
          inputMode="numeric"
          {...form.register('increment')}
          error={form.fields.increment}
        />
        <TextField
          id="rate-edit-grace"
          label="Grace (s)"
          inputMode="numeric"
          {...form.register('graceSeconds')}
          error={form.fields.graceSeconds}
        />
        <TextField
          id="rate-edit-minimum"
          label="Minimum (s; empty: none)"
          inputMode="numeric"
          {...form.register('minimumSeconds')}
          error={form.fields.minimumSeconds}
        />
      </div>
      <TextField
        id="rate-edit-live-at"
        label="Goes live at (empty: now)"
        type="datetime-local"
        {...form.register('liveAt')}
        error={form.fields.liveAt}
      />
      <div className="flex items-center gap-2">
        <input
          id="rate-edit-blocked"
          type="checkbox"
          {...form.register('blocked')}
          className="h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500"
        />
        <label htmlFor="rate-edit-blocked" className="text-sm text-slate-700">
          Blocked (calls to it are refused)
        </label>
      </div>
      <FormMessage message={form.message} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={form.pending}>
          Save rate
        </Button>
        {editing ? (
          <>
            <Button type="button" danger onClick={removeRow} disabled={remove.isPending}>
              Remove rate
            </Button>
            <button type="button" className="text-sm text-slate-600 underline" onClick={onDone}>
              Cancel
            </button>
          </>
        ) : null}
      </div>
    </form>
  );
}

/** Asked when the form is sent (the moment it is saved), not when it is drawn. */
function hasPassed(instant: string): boolean {
  return Date.parse(instant) <= serverNow();
}

function valuesOf(row: TRateDto): TRateValues {
  return {
    prefix: row.prefix,
    destination: row.destination,
    rate: row.rate,
    connectionFee: row.connectionFee,
    initialIncrement: String(row.initialIncrement),
    increment: String(row.increment),
    graceSeconds: String(row.graceSeconds),
    minimumSeconds: row.minimumSeconds ? String(row.minimumSeconds) : '',
    blocked: row.blocked,
    liveAt: '',
  };
}

/** A new prefix is asked first: it may take calls from a shorter one's price. */
function addQuestion(cardName: string, prefix: string) {
  return {
    title: `Set the rate of ${prefix} on ${cardName}?`,
    consequence: `If ${prefix} is new, calls to numbers starting with it are priced by it from now on, here and on the cards derived from it; if it is there already, its rate is replaced.`,
    confirmLabel: 'Save rate',
  };
}

/** The server names `upsert.0.rate`; the form's field is `rate`. */
function isStale(error: unknown): error is ApiClientError {
  return error instanceof ApiClientError && error.status === 409 && error.code === 'conflict';
}

/** The row's terms as the card holds them now, in a sentence (or that it is gone). */
/** When a row applies from: an undated row before any date. */
function sinceOf(row: TRateDto): number {
  return row.effectiveFrom ? Date.parse(row.effectiveFrom) : Number.MIN_SAFE_INTEGER;
}

async function termsNow(
  card: { id: string; currency: string },
  prefix: string,
  effectiveFrom: string | null,
): Promise<string> {
  try {
    const page = await apiFetch<TPageOf<TRateDto>>(
      `/cards/${card.id}/rates?prefix=${encodeURIComponent(prefix)}&limit=50`,
    );
    const rows = page.items.filter((item) => item.prefix === prefix);
    const now = serverNow();
    // A row still to come is changed at its date: that row. Otherwise the row in force
    // now — a colleague's change of terms in force is a new row dated then, and quoting
    // the one this form was opened on would invite putting its old terms back.
    const row =
      effectiveFrom && Date.parse(effectiveFrom) > now
        ? rows.find((item) => item.effectiveFrom === effectiveFrom)
        : rows
            .filter((item) => sinceOf(item) <= now)
            // The latest date in force first; an undated row applies only under none.
            .sort((a, b) => sinceOf(b) - sinceOf(a))[0];
    if (!row) return `${prefix} is no longer on the card.`;
    return `${prefix} now reads: ${row.rate} ${card.currency} a minute, connection fee ${row.connectionFee}, billed ${row.initialIncrement}/${row.increment} s${row.blocked ? ', blocked' : ''}.`;
  } catch {
    return 'The table shows the card as it is now.';
  }
}

function asRowError(error: unknown): unknown {
  if (!(error instanceof ApiClientError) || !Object.keys(error.fields).length) return error;
  const fields = Object.fromEntries(
    Object.entries(error.fields).map(([field, text]) => [field.replace(/^upsert\.0\./, ''), text]),
  );
  return new ApiClientError(
    error.status,
    error.code,
    error.message,
    fields,
    error.current,
    error.dependants,
  );
}
