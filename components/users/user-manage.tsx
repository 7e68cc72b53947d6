'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { ConflictNotice } from '@/components/live/conflict-notice';
import { RecordPicker } from '@/components/pickers/record-picker';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZImpersonationStart } from '@/lib/shared/schemas/impersonation';
import { ZUserPatch, type TUserDto, type TUserManageability } from '@/lib/shared/schemas/users';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';
import { useConfirm, type TConfirmRequest } from '@/components/ui/confirm-dialog';
import { recordHref, useToast } from '@/components/ui/toast';
import { useWritesEnabled } from '@/lib/client/writes-enabled';
import { rememberViewAsStart } from '@/lib/client/view-as-return';

/**
 * One user's administration: disable or enable (its sessions end at once), another
 * group (the old panel's "the desired Group must be selected": its access follows at
 * once, its sessions stay), an admin password reset (changed at next sign-in), an MFA
 * reset (a lost phone), deleting it, and — for support staff — viewing the panel as this
 * user, read-only, with a reason (DESIGN §1 "Impersonation"). All but the view are
 * offered only when the server's manage rule allows them (the user's group holds nothing
 * the viewer lacks, never oneself), asked of the server, not re-decided here; the groups
 * offered are those the server says the viewer may give a user of its account.
 */
export function UserManage({
  user,
  can,
  self = false,
  onClose,
}: {
  user: TUserDto;
  can: { update: boolean; delete: boolean; impersonate: boolean };
  /**
   * One's own page: only one's name is offered. The manage rule is not asked (it refuses
   * oneself, and asking needs users:read, which a person renaming itself may lack).
   */
  self?: boolean;
  onClose: () => void;
}) {
  const [message, setMessage] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // One action at a time: a second click while the first is on its way would send the
  // same change again at a version that is gone (409).
  const [busy, setBusy] = useState(false);
  const manageableKey = queryKeys.anyChange('users', { id: user.id, sub: 'manageable' });
  // Refetched after any change: a group's grants or the user's group may move under us.
  const joinedFetch = useJoinedFetch();
  const rule = useQuery({
    queryKey: manageableKey,
    queryFn: ({ signal }) => joinedFetch<TUserManageability>(pathOf(manageableKey), { signal }),
    enabled: (can.update || can.delete) && !self,
  });
  const ruled = !self && rule.data?.manageable === true;
  const manageable = can.update && ruled;
  const router = useRouter();
  const { confirm, dialog } = useConfirm();
  const toast = useToast();
  const writes = useWritesEnabled();
  const href = recordHref('users', user.id);

  /** One action, asked first when `ask` says what it takes away; its success is a toast. */
  async function run(
    action: () => Promise<unknown>,
    success: string,
    ask?: TConfirmRequest,
    /** The user is gone after it: the toast links nowhere. */
    gone = false,
  ) {
    setMessage(null);
    setDone(null);
    if (ask && !(await confirm(ask))) return;
    setBusy(true);
    try {
      await action();
      setDone(success);
      toast({ message: `${user.email}: ${success}`, ...(gone ? {} : { href }) });
    } catch (error) {
      setMessage(
        error instanceof ApiClientError ? error.message : 'Something went wrong; try again.',
      );
    } finally {
      setBusy(false);
    }
  }
  const patch = (body: Record<string, unknown>) =>
    apiFetch(`/users/${user.id}`, { method: 'PATCH', body: { version: user.version, ...body } });

  const resetPassword = useSchemaForm({
    schema: ZUserPatch,
    defaultValues: { password: '' },
    toBody: (values) => ({ version: user.version, password: values.password }),
    submit: async (body) => {
      setDone(null);
      await apiFetch(`/users/${user.id}`, { method: 'PATCH', body });
      setDone('Password reset: they choose a new one at next sign-in.');
    },
    success: { message: `Password of ${user.email} reset.`, href },
  });
  const viewAs = useSchemaForm({
    schema: ZImpersonationStart,
    defaultValues: { reason: '' },
    toBody: (values) => ({ userId: user.id, reason: values.reason }),
    submit: async (body) => {
      setDone(null);
      await apiFetch('/impersonation', { method: 'POST', body });
      rememberViewAsStart();
      setDone(`Viewing as ${user.email}.`);
      // A whole new page, not a client-side move: nothing of this identity's cache or
      // live connection may paint under the one viewed (lib/client/identity-scope.tsx).
      window.location.assign('/');
    },
  });

  return (
    <PanelSection
      title={`Manage ${user.email}`}
      actions={
        <button type="button" className="text-sm text-brand-700 underline" onClick={onClose}>
          Close
        </button>
      }
    >
      <div className="space-y-5">
        {self || ((can.update || can.delete) && rule.data && !rule.data.manageable) ? (
          <p className="text-sm text-slate-700" role="note">
            {self || rule.data?.reason === 'self'
              ? 'This is you: your name is changed here, your password and MFA from the header (Password, Account security).'
              : `You cannot rename, disable, enable, regroup, reset or delete this user: its group holds ${grantList(rule.data?.lacking ?? [])} that you do not.`}
          </p>
        ) : null}
        {/* One's own name is one's own; someone else's only under the manage rule. */}
        {can.update && (ruled || self || rule.data?.reason === 'self') ? (
          <UserFieldForm user={user} field="name" />
        ) : null}
        {/* A login corrected is someone's sign-in changed: the manage rule, never oneself. */}
        {can.update && manageable ? <UserFieldForm user={user} field="email" /> : null}
        {manageable ? (
          <div className="space-y-2">
            <p className="text-sm text-slate-700">
              Status: <strong>{user.status}</strong>
            </p>
            <Button
              type="button"
              danger={user.status === 'active'}
              disabled={!writes || busy}
              onClick={() =>
                void run(
                  () => patch({ status: user.status === 'active' ? 'disabled' : 'active' }),
                  user.status === 'active' ? 'Disabled: every session has ended.' : 'Enabled.',
                  user.status === 'active'
                    ? {
                        title: `Disable ${user.email}?`,
                        consequence: `Every session and API token of ${user.email} ends at once and they cannot sign in until enabled again.`,
                        confirmLabel: 'Disable user',
                        danger: true,
                      }
                    : undefined,
                )
              }
            >
              {user.status === 'active' ? 'Disable user' : 'Enable user'}
            </Button>
          </div>
        ) : null}
        {manageable ? (
          <ChangeGroupForm
            // Someone else's change of group starts the choice afresh from it.
            key={user.groupId}
            user={user}
            disabled={!writes || busy}
            onSubmit={(groupId, version) =>
              void run(
                () =>
                  apiFetch(`/users/${user.id}`, { method: 'PATCH', body: { version, groupId } }),
                'Group changed: their access follows it at once; their sessions go on.',
              )
            }
          />
        ) : null}
        {manageable ? (
          <form
            onSubmit={resetPassword.onSubmit}
            className="space-y-3"
            aria-label="Reset password"
            noValidate
          >
            <TextField
              id="reset-password"
              label="New temporary password"
              {...resetPassword.register('password')}
              type="password"
              autoComplete="new-password"
              error={resetPassword.fields.password}
            />
            <FormMessage message={resetPassword.message} />
            <Button type="submit" disabled={resetPassword.pending}>
              Reset password
            </Button>
          </form>
        ) : null}
        {manageable && user.mfaEnabled ? (
          <div className="space-y-2">
            <p className="text-sm text-slate-700">
              MFA is on. Reset it when the user lost its authenticator: it signs in with the
              password alone and enrols again; every session of the user ends.
            </p>
            <Button
              type="button"
              danger
              disabled={!writes || busy}
              onClick={() =>
                void run(
                  () => apiFetch(`/users/${user.id}/mfa`, { method: 'DELETE' }),
                  'MFA reset: every session has ended; they enrol again.',
                  {
                    title: `Reset MFA of ${user.email}?`,
                    consequence: `Every session of ${user.email} ends at once; they sign in with the password alone and enrol an authenticator again.`,
                    confirmLabel: 'Reset MFA',
                    danger: true,
                  },
                )
              }
            >
              Reset MFA
            </Button>
          </div>
        ) : null}
        {can.delete && ruled ? (
          <div className="space-y-2">
            <Button
              type="button"
              danger
              disabled={!writes || busy}
              onClick={() =>
                void run(
                  async () => {
                    await apiFetch(`/users/${user.id}`, { method: 'DELETE' });
                    router.push('/users');
                  },
                  'Deleted.',
                  {
                    title: `Delete ${user.email}?`,
                    consequence: `${user.email} is removed for good: every session and API token ends at once. What they did stays in the audit log.`,
                    confirmLabel: 'Delete user',
                    danger: true,
                  },
                  true,
                )
              }
            >
              Delete user
            </Button>
          </div>
        ) : null}
        {can.impersonate ? (
          <form
            onSubmit={viewAs.onSubmit}
            className="space-y-3"
            aria-label="View as this user"
            noValidate
          >
            <TextField
              id="view-as-reason"
              label="Why (recorded in the audit log)"
              {...viewAs.register('reason')}
              error={viewAs.fields.reason}
              required
            />
            <FormMessage message={viewAs.message} />
            <Button type="submit" disabled={viewAs.pending}>
              View as {user.email}
            </Button>
          </form>
        ) : null}
        <FormMessage message={message} />
        {done ? (
          <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
            {done}
          </p>
        ) : null}
      </div>
      {dialog}
    </PanelSection>
  );
}

/**
 * One field of the user, saved alone: its name (not a takeover: any users:update holder
 * in scope may correct it, as the server allows) or its login email (a takeover's rule:
 * shown only where the manage rule holds; another user's is 409 `email_taken`).
 */
function UserFieldForm({ user, field }: { user: TUserDto; field: 'name' | 'email' }) {
  const label = field === 'name' ? 'Name' : 'Login email';
  const edit = useSchemaForm({
    schema: ZUserPatch,
    defaultValues: { [field]: user[field] },
    toBody: (values) => ({ version: user.version, [field]: values[field] }),
    resetOnSuccess: false,
    submit: (body) => apiFetch(`/users/${user.id}`, { method: 'PATCH', body }),
    success: {
      message: field === 'name' ? `${user.email} renamed.` : `Login email of ${user.name} saved.`,
      href: recordHref('users', user.id),
    },
  });
  // Someone else's save shows in the field, unless the person is typing there (then
  // their save meets it as a conflict, both versions shown).
  const { form } = edit;
  const current = user[field];
  useEffect(() => {
    // (A field already reading the new value — one's own save — is settled on it.)
    if (!form.formState.isDirty || form.getValues(field) === current) {
      form.reset({ [field]: current });
    }
  }, [current, field, form]);
  return (
    <form onSubmit={edit.onSubmit} className="space-y-3" aria-label={label} noValidate>
      <TextField
        id={`user-${field}`}
        label={label}
        {...edit.register(field)}
        error={edit.fields[field]}
        autoComplete="off"
        {...(field === 'email' ? { type: 'email', inputMode: 'email' as const } : {})}
      />
      <FormMessage message={edit.message} />
      {edit.conflict ? (
        // Saved by someone else at that moment: both shown, the person chooses.
        <ConflictNotice
          conflict={edit.conflict}
          labels={{ [field]: label }}
          pending={edit.pending}
          partial
          onTakeTheirs={(saved) => {
            edit.form.reset({ [field]: String(saved[field] ?? '') });
            edit.dismissConflict();
          }}
          onOverwrite={() => void edit.overwrite()}
        />
      ) : null}
      <Button type="submit" disabled={edit.pending}>
        {field === 'name' ? 'Save name' : 'Save login email'}
      </Button>
    </form>
  );
}

/** "a:b, c:d and 12 more grants": a refusal names what is lacking without a wall of text. */
function grantList(grants: string[]): string {
  // None named: the group is one the viewer may not read (the server withholds its grants).
  if (!grants.length) return 'grants';
  const shown = grants.slice(0, 4).join(', ');
  if (grants.length <= 4) return `${grants.length === 1 ? 'a grant' : 'grants'} (${shown})`;
  return `${grants.length} grants (${shown} and ${grants.length - 4} more)`;
}

/**
 * Another group for the user: searched among those the server says the viewer may give
 * a user of its account. The version sent is the one the choice was made at, so a change
 * someone saved meanwhile is not overwritten unseen (409, shown as the message).
 */
function ChangeGroupForm({
  user,
  disabled,
  onSubmit,
}: {
  user: TUserDto;
  disabled: boolean;
  onSubmit: (groupId: string, version: number) => void;
}) {
  const [choice, setChoice] = useState({ groupId: user.groupId, version: user.version });
  return (
    <form
      className="space-y-3"
      aria-label="Change group"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(choice.groupId, choice.version);
      }}
    >
      <RecordPicker
        id="manage-group"
        label="Group"
        placeholder="Type to search groups…"
        sources={[
          {
            resource: 'groups',
            filter: { assignableTo: user.accountId },
            toOption: (group) => ({
              id: group.id,
              label: String(group.name),
              detail: group.useOnly ? 'from above' : undefined,
            }),
          },
        ]}
        value={choice.groupId}
        onChange={(id) => setChoice({ groupId: id, version: user.version })}
        required
      />
      <Button
        type="submit"
        disabled={disabled || !choice.groupId || choice.groupId === user.groupId}
      >
        Change group
      </Button>
    </form>
  );
}
