'use client';

import { useState } from 'react';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { useApiMutation } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZGroupPatch, type TGroupDto } from '@/lib/shared/schemas/groups';
import { Button, TextField } from '@/components/ui/field';
import { EditCollision } from '@/components/live/conflict-notice';
import { PresenceAvatars } from '@/components/live/presence-avatars';
import { FormMessage } from '@/components/ui/panel-section';
import { GrantMatrix } from './grant-matrix';
import { useConfirm } from '@/components/ui/confirm-dialog';

/**
 * Edits one group's name and grants in the matrix, with the version it was opened with:
 * someone else's save in between comes back as the conflict dialog, never overwritten
 * silently. The server refuses to add a grant the editor lacks (no escalation); the
 * matrix only offers the grants the editor holds. Delete answers 409 while users have it.
 */
export function GroupEditForm({
  group,
  latest,
  held,
  canDelete,
  onDone,
}: {
  group: TGroupDto;
  /** The live copy, to say when someone saved a newer version during the edit. */
  latest: TGroupDto | undefined;
  held: readonly string[];
  canDelete: boolean;
  onDone: () => void;
}) {
  const [opened, setOpened] = useState(group);
  const save = useApiMutation<unknown, unknown>(
    'PATCH',
    `/groups/${opened.id}`,
    [queryKeys.list('groups')],
    { success: `Group ${opened.name} saved.` },
  );
  const remove = useApiMutation<undefined, unknown>(
    'DELETE',
    `/groups/${opened.id}`,
    [queryKeys.list('groups')],
    { success: `Group ${opened.name} deleted.` },
  );
  const { confirm, dialog } = useConfirm();
  async function deleteGroup() {
    const sure = await confirm({
      title: `Delete group ${opened.name}?`,
      consequence: `The group ${opened.name} and its grants are gone for good; it can be deleted only while no user has it.`,
      confirmLabel: 'Delete group',
      danger: true,
    });
    if (sure) await remove.mutateAsync(undefined).then(onDone, () => {});
  }
  const form = useSchemaForm({
    schema: ZGroupPatch,
    defaultValues: fieldsOf(opened),
    toBody: (values) => ({ version: opened.version, ...values }),
    submit: async (body) => {
      await save.mutateAsync(body);
      onDone();
    },
  });
  // Another version taken: the fields show its values, and Save sends its version.
  const reload = (current: TGroupDto) => {
    form.dismissConflict();
    setOpened(current);
    form.form.reset(fieldsOf(current));
  };

  return (
    <form
      key={opened.version}
      onSubmit={form.onSubmit}
      className="space-y-3"
      noValidate
      aria-label={`Edit group ${opened.name}`}
    >
      <PresenceAvatars topic={`groups:${opened.id}`} label="editing this group" />
      <EditCollision
        openedVersion={opened.version}
        latest={latest}
        form={form}
        labels={{ name: 'Name', grants: 'Grants', requireMfa: 'Require MFA' }}
        onLoad={reload}
      />
      <TextField
        id="edit-group-name"
        label="Group name"
        {...form.register('name')}
        error={form.fields.name}
        required
      />
      <GrantMatrix
        label="Grants"
        held={held}
        checked={opened.grants}
        field={form.register('grants')}
      />
      <RequireMfaField id="edit-group-require-mfa" field={form.register('requireMfa')} />
      <FormMessage
        message={
          form.message ??
          (form.fields.grants ? `Grants: ${form.fields.grants}` : null) ??
          (remove.error ? (remove.error as Error).message : null)
        }
      />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={form.pending}>
          Save group
        </Button>
        {canDelete ? (
          <button
            type="button"
            disabled={remove.isPending}
            className="rounded-md border border-red-300 px-3 py-2 text-sm font-medium text-red-800 hover:bg-red-50 disabled:opacity-60"
            onClick={() => void deleteGroup()}
          >
            Delete group
          </button>
        ) : null}
        <button type="button" className="text-sm text-slate-600 underline" onClick={onDone}>
          Cancel
        </button>
      </div>
      {dialog}
    </form>
  );
}

function fieldsOf(group: TGroupDto) {
  return { name: group.name, grants: group.grants as string[], requireMfa: group.requireMfa };
}

/**
 * The group's MFA requirement: its users who have not enrolled reach only the enrolment
 * screen until they do. Recommended for carrier administrators and for any group
 * holding `impersonation:start`.
 */
export function RequireMfaField({
  id,
  field,
}: {
  id: string;
  /** The form's `register('requireMfa')`. */
  field: UseFormRegisterReturn<'requireMfa'>;
}) {
  return (
    <div className="flex items-start gap-2">
      <input
        id={id}
        type="checkbox"
        {...field}
        className="mt-0.5 h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500"
      />
      <label htmlFor={id} className="text-sm text-slate-700">
        <span className="font-medium">Require MFA</span>
        <span className="block text-xs text-slate-500">
          Members must use an authenticator app; until they enrol, they can only enrol.
        </span>
      </label>
    </div>
  );
}
