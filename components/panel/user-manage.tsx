'use client';

import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage, PanelSection } from './panel-section';

/**
 * One user's administration: disable or enable (its sessions end at once), an admin
 * password reset (changed at next sign-in), and — for support staff — viewing the panel
 * as this user, read-only, with a reason (DESIGN §1 "Impersonation").
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
        {can.update ? (
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
        {can.update ? (
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
