'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TUserDto, TUserManageability } from '@/lib/shared/schemas/users';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';

/**
 * One user's administration: disable or enable (its sessions end at once), an admin
 * password reset (changed at next sign-in), an MFA reset (a lost phone), and — for
 * support staff — viewing the panel as this user, read-only, with a reason (DESIGN §1
 * "Impersonation"). Disable, enable and the resets are offered only when the server's
 * manage rule allows them (the user's group holds nothing the viewer lacks, never
 * oneself), asked of the server, not re-decided here.
 */
export function UserManage({
  user,
  can,
  onClose,
}: {
  user: TUserDto;
  can: { update: boolean; impersonate: boolean };
  onClose: () => void;
}) {
  const router = useRouter();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const manageableKey = queryKeys.anyChange('users', { id: user.id, sub: 'manageable' });
  // Refetched after any change: a group's grants or the user's group may move under us.
  const rule = useQuery({
    queryKey: manageableKey,
    queryFn: () => apiFetch<TUserManageability>(pathOf(manageableKey)),
    enabled: can.update,
  });
  const manageable = can.update && rule.data?.manageable === true;

  async function run(action: () => Promise<unknown>, success: string) {
    setFields({});
    setMessage(null);
    setDone(null);
    try {
      await action();
      setDone(success);
    } catch (error) {
      if (error instanceof ApiClientError && Object.keys(error.fields).length)
        setFields(error.fields);
      else setMessage((error as Error).message);
    }
  }
  const patch = (body: Record<string, unknown>) =>
    apiFetch(`/users/${user.id}`, { method: 'PATCH', body: { version: user.version, ...body } });

  function resetPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const password = String(new FormData(form).get('password') ?? '');
    void run(
      () => patch({ password }).then(() => form.reset()),
      'Password reset: they choose a new one at next sign-in.',
    );
  }
  function viewAs(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget).get('reason') ?? '');
    void run(async () => {
      await apiFetch('/impersonation', { method: 'POST', body: { userId: user.id, reason } });
      router.push('/');
      router.refresh();
    }, `Viewing as ${user.email}.`);
  }

  return (
    <PanelSection
      title={`Manage ${user.email}`}
      reveal
      actions={
        <button type="button" className="text-sm text-brand-700 underline" onClick={onClose}>
          Close
        </button>
      }
    >
      <div className="space-y-5">
        {can.update && rule.data && !rule.data.manageable ? (
          <p className="text-sm text-slate-700" role="note">
            {rule.data.reason === 'self'
              ? 'This is you: change your password or MFA from the header (Password, Account security).'
              : `You cannot disable, enable or reset this user: its group holds ${grantList(rule.data.lacking)} that you do not.`}
          </p>
        ) : null}
        {manageable ? (
          <div className="space-y-2">
            <p className="text-sm text-slate-700">
              Status: <strong>{user.status}</strong>
            </p>
            <Button
              type="button"
              onClick={() =>
                void run(
                  () => patch({ status: user.status === 'active' ? 'disabled' : 'active' }),
                  user.status === 'active' ? 'Disabled: every session has ended.' : 'Enabled.',
                )
              }
            >
              {user.status === 'active' ? 'Disable user' : 'Enable user'}
            </Button>
          </div>
        ) : null}
        {manageable ? (
          <form
            onSubmit={resetPassword}
            className="space-y-3"
            aria-label="Reset password"
            noValidate
          >
            <TextField
              id="reset-password"
              label="New temporary password"
              name="password"
              type="password"
              autoComplete="new-password"
              error={fields.password}
            />
            <Button type="submit">Reset password</Button>
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
              onClick={() =>
                void run(
                  () => apiFetch(`/users/${user.id}/mfa`, { method: 'DELETE' }),
                  'MFA reset: every session has ended; they enrol again.',
                )
              }
            >
              Reset MFA
            </Button>
          </div>
        ) : null}
        {can.impersonate ? (
          <form onSubmit={viewAs} className="space-y-3" aria-label="View as this user" noValidate>
            <TextField
              id="view-as-reason"
              label="Why (recorded in the audit log)"
              name="reason"
              error={fields.reason}
              required
            />
            <Button type="submit">View as {user.email}</Button>
          </form>
        ) : null}
        <FormMessage message={message} />
        {done ? (
          <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
            {done}
          </p>
        ) : null}
      </div>
    </PanelSection>
  );
}

/** "a:b, c:d and 12 more grants": a refusal names what is lacking without a wall of text. */
function grantList(grants: string[]): string {
  const shown = grants.slice(0, 4).join(', ');
  if (grants.length <= 4) return `${grants.length === 1 ? 'a grant' : 'grants'} (${shown})`;
  return `${grants.length} grants (${shown} and ${grants.length - 4} more)`;
}
