'use client';

import { ApiClientError } from '@/lib/client/api';
import { useApiMutation } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, SubmitCancelled, useSchemaForm } from '@/lib/client/use-schema-form';
import {
  ZCustomerPatch,
  ZResellerPatch,
  type TCustomerDto,
  type TResellerDto,
} from '@/lib/shared/schemas/accounts';
import { Button, SelectField, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { EditCollision } from '@/components/live/conflict-notice';
import { PresenceAvatars } from '@/components/live/presence-avatars';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { recordHref } from '@/components/ui/toast';
import { formatMoney, plainDecimal } from '@/lib/shared/format';
import Decimal from 'decimal.js';

/** The fields this form edits, by their labels. */
const EDITED_FIELDS: Record<string, string> = {
  name: 'Name',
  email: 'Email',
  status: 'Status',
  creditLimit: 'Credit limit',
  warningThreshold: 'Warning threshold',
};

/** Every field of `fields` the same in both copies of the record. */
function sameFields(
  opened: object,
  other: Record<string, unknown>,
  fields: Record<string, string>,
): boolean {
  const mine = opened as Record<string, unknown>;
  return Object.keys(fields).every((field) => (mine[field] ?? null) === (other[field] ?? null));
}

/** The edited fields a body sends (those changed in the form), by their labels. */
function sentFields(body: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(EDITED_FIELDS).filter(
      ([field]) => (body as Record<string, unknown>)[field] !== undefined,
    ),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** What suspending takes away, said before it happens (DESIGN §1 "Accounts"). */
export function suspendConsequence(kind: 'resellers' | 'customers'): string {
  return kind === 'resellers'
    ? 'Its users, its customers and its sub-resellers with their users lose access at once, and its customers show as suspended, until it is resumed.'
    : 'It shows as suspended and its users lose access at once, until it is resumed.';
}

/**
 * What a new credit limit does that a person may not mean, asked before it is saved: one
 * cleared removes credit control (the account is never blocked, whatever it owes); one
 * its balance already reaches blocks it for credit at once — calls refused for it and,
 * for a reseller, for everything below it. Nothing to ask otherwise.
 */
function creditLimitQuestion(
  kind: 'resellers' | 'customers',
  account: TResellerDto | TCustomerDto,
  limit: string | null | undefined,
) {
  if (limit === undefined) return null;
  const money = (amount: string) => formatMoney(amount, { currency: account.currency });
  if (limit === null) {
    if (account.creditLimit === null) return null;
    return {
      title: `Remove ${account.name}'s credit limit?`,
      consequence: `It has a limit of ${money(account.creditLimit)} now. Without one it is never blocked for credit: its calls go on whatever it owes.`,
      confirmLabel: 'Remove the limit',
      danger: true,
    };
  }
  let blocks: boolean;
  try {
    blocks = new Decimal(account.balance).plus(limit).lte(0);
  } catch {
    return null; // Not a number: the server names the field.
  }
  if (!blocks || account.creditBlock === 'own') return null;
  return {
    title: `Block ${account.name} for credit?`,
    consequence: `Its balance is ${money(account.balance)}: a limit of ${money(limit)} leaves it no credit, so its calls are refused from now on${kind === 'resellers' ? ', and those of every account below it' : ''}.`,
    confirmLabel: 'Save and block',
    danger: true,
  };
}

/**
 * Edits one reseller or customer. The form sends the fields changed in it and the version
 * it was opened with: someone else's save in between that touched other fields is kept
 * (this one goes on top), and one that touched the same fields comes back as a conflict
 * (both versions shown, the person chooses) instead of being overwritten. `latest` is the live copy: when it moves
 * past the opened version the form says so before anyone presses Save.
 */
export function AccountEditForm({
  kind,
  account,
  latest,
  onDone,
  onReload,
}: {
  kind: 'resellers' | 'customers';
  account: TResellerDto | TCustomerDto;
  latest: TResellerDto | TCustomerDto | undefined;
  /** Closed: with the record as saved, or nothing when cancelled. */
  onDone: (saved?: TResellerDto | TCustomerDto) => void;
  onReload: (current: TResellerDto | TCustomerDto) => void;
}) {
  const save = useApiMutation<unknown, TResellerDto | TCustomerDto>(
    'PATCH',
    `/${kind}/${account.id}`,
    [queryKeys.list(kind)],
    {
      // Named as saved: the name may have been changed by someone else since it opened.
      success: (saved) => ({
        message: `${saved.name} saved.`,
        href: recordHref(kind, account.id),
      }),
    },
  );
  const { confirm, dialog } = useConfirm();
  // Amounts as a person types them (500, not the API's 500.000000).
  const opened = {
    name: account.name,
    email: account.email ?? '',
    status: account.status,
    creditLimit: account.creditLimit ? plainDecimal(account.creditLimit) : '',
    warningThreshold: account.warningThreshold ? plainDecimal(account.warningThreshold) : '',
  };
  const form = useSchemaForm({
    schema: kind === 'resellers' ? ZResellerPatch : ZCustomerPatch,
    defaultValues: opened,
    // Only the fields changed here: a PATCH leaves the others as they are, so a save on
    // top of someone else's (a conflict overwritten, or the retry below) keeps what they
    // changed in the fields this person did not touch. The status, too, is sent only
    // when changed: the one shown is the effective one (suspended while an account above
    // is), and sent back it would suspend the account itself.
    toBody: (values) => {
      const changed = (field: keyof typeof opened) => values[field].trim() !== opened[field];
      return {
        version: account.version,
        name: changed('name') ? values.name : undefined,
        // A customer's email may be cleared, a reseller's not; either's credit limit may be.
        email: !changed('email')
          ? undefined
          : kind === 'resellers'
            ? values.email
            : (optional(values.email) ?? null),
        status: values.status !== account.status ? values.status : undefined,
        creditLimit: changed('creditLimit') ? (optional(values.creditLimit) ?? null) : undefined,
        warningThreshold: changed('warningThreshold')
          ? (optional(values.warningThreshold) ?? null)
          : undefined,
      };
    },
    submit: async (body) => {
      // Judged on the account as it is now (calls move its balance while the form is open).
      const credit = creditLimitQuestion(kind, latest ?? account, body.creditLimit);
      if (credit && !(await confirm(credit))) throw new SubmitCancelled();
      if (body.status === 'suspended' && account.status !== 'suspended') {
        const sure = await confirm({
          title: `Suspend ${account.name}?`,
          consequence: suspendConsequence(kind),
          confirmLabel: 'Suspend',
          danger: true,
        });
        if (!sure) throw new SubmitCancelled();
      }
      try {
        onDone(await save.mutateAsync(body));
      } catch (error) {
        // A newer version that changed none of the fields this person changed — calls or
        // a payment moved the balance (which moves the version at call rate), someone set
        // another field — is no conflict: the same change is saved on top of it, once,
        // and theirs stays. A field changed on both sides is shown as a conflict.
        const current = error instanceof ApiClientError ? error.current : undefined;
        if (
          error instanceof ApiClientError &&
          error.code === 'conflict' &&
          isRecord(current) &&
          sameFields(account, current, sentFields(body))
        ) {
          onDone(await save.mutateAsync({ ...body, version: Number(current.version) }));
          return;
        }
        throw error;
      }
    },
  });
  return (
    <form
      onSubmit={form.onSubmit}
      className="space-y-3"
      noValidate
      aria-label={`Edit ${account.name}`}
    >
      <PresenceAvatars topic={`${kind}:${account.id}`} label="editing this record" />
      <EditCollision
        openedVersion={account.version}
        // Told only when a field edited here moved, not when calls moved the balance.
        changed={
          latest !== undefined &&
          !sameFields(account, latest as unknown as Record<string, unknown>, EDITED_FIELDS)
        }
        latest={latest}
        form={form}
        labels={EDITED_FIELDS}
        partial
        onLoad={onReload}
      />
      <TextField label="Name" {...form.register('name')} error={form.fields.name} required />
      <TextField label="Email" {...form.register('email')} type="email" error={form.fields.email} />
      <TextField
        label="Credit limit (empty: none; 0: prepaid)"
        {...form.register('creditLimit')}
        inputMode="decimal"
        error={form.fields.creditLimit}
      />
      <TextField
        label="Warning threshold (available credit)"
        {...form.register('warningThreshold')}
        inputMode="decimal"
        error={form.fields.warningThreshold}
      />
      <SelectField label="Status" {...form.register('status')} error={form.fields.status}>
        <option value="active">active</option>
        <option value="suspended">suspended</option>
      </SelectField>
      <FormMessage message={form.message} />
      <div className="flex gap-2">
        <Button type="submit" disabled={form.pending}>
          Save changes
        </Button>
        <button type="button" className="text-sm text-slate-600 underline" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
      {dialog}
    </form>
  );
}
