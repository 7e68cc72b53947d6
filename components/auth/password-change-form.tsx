'use client';

import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import { Button, TextField } from '@/components/ui/field';

/**
 * One's own password change (`POST /me/password`): after an admin reset it is the only
 * thing open; afterwards every other session and API token of the user has ended.
 */
export function PasswordChangeForm({ forced }: { forced: boolean }) {
  const router = useRouter();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const newPassword = String(data.get('newPassword') ?? '');
    setFields({});
    setMessage(null);
    if (newPassword !== String(data.get('confirmPassword') ?? '')) {
      setFields({ confirmPassword: 'does not match the new password' });
      return;
    }
    setPending(true);
    try {
      await apiFetch('/me/password', {
        method: 'POST',
        body: { currentPassword: String(data.get('currentPassword') ?? ''), newPassword },
      });
      setDone(true);
      router.replace('/');
      router.refresh();
    } catch (error) {
      setPending(false);
      if (error instanceof ApiClientError && Object.keys(error.fields).length) {
        setFields(error.fields);
      } else setMessage((error as Error).message);
    }
  }

  return (
    <form onSubmit={onSubmit} aria-label="Change password" className="space-y-4" noValidate>
      <TextField
        id="current-password"
        label={forced ? 'Temporary password (from your administrator)' : 'Current password'}
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        error={fields.currentPassword}
        required
      />
      <TextField
        id="new-password"
        label="New password (at least 12 characters)"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        error={fields.newPassword}
        required
      />
      <TextField
        id="confirm-password"
        label="New password again"
        name="confirmPassword"
        type="password"
        autoComplete="new-password"
        error={fields.confirmPassword}
        required
      />
      {message ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {message}
        </p>
      ) : null}
      {done ? (
        <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
          Password changed. Your other sessions and API tokens have ended.
        </p>
      ) : null}
      <Button type="submit" disabled={pending}>
        {pending ? 'Changing…' : 'Change password'}
      </Button>
    </form>
  );
}
