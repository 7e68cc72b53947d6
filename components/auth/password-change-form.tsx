'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { z } from 'zod';
import { apiFetch } from '@/lib/client/api';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZPasswordChange } from '@/lib/shared/schemas/users';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/** The endpoint's body plus the confirmation, which only the form asks for. */
const ZPasswordChangeForm = ZPasswordChange.extend({ confirmPassword: z.string() }).refine(
  (values) => values.confirmPassword === values.newPassword,
  { path: ['confirmPassword'], message: 'does not match the new password' },
);

/**
 * One's own password change (`POST /me/password`): after an admin reset it is the only
 * thing open; afterwards every other session and API token of the user has ended.
 */
export function PasswordChangeForm({ forced }: { forced: boolean }) {
  const router = useRouter();
  const [done, setDone] = useState(false);
  const form = useSchemaForm({
    schema: ZPasswordChangeForm,
    defaultValues: { currentPassword: '', newPassword: '', confirmPassword: '' },
    toBody: (values) => values,
    submit: async ({ currentPassword, newPassword }) => {
      await apiFetch('/me/password', { method: 'POST', body: { currentPassword, newPassword } });
      setDone(true);
      router.replace('/');
      router.refresh();
    },
  });

  return (
    <form onSubmit={form.onSubmit} aria-label="Change password" className="space-y-4" noValidate>
      <TextField
        id="current-password"
        label={forced ? 'Temporary password (from your administrator)' : 'Current password'}
        {...form.register('currentPassword')}
        type="password"
        autoComplete="current-password"
        error={form.fields.currentPassword}
        required
      />
      <TextField
        id="new-password"
        label="New password (at least 12 characters)"
        {...form.register('newPassword')}
        type="password"
        autoComplete="new-password"
        error={form.fields.newPassword}
        required
      />
      <TextField
        id="confirm-password"
        label="New password again"
        {...form.register('confirmPassword')}
        type="password"
        autoComplete="new-password"
        error={form.fields.confirmPassword}
        required
      />
      <FormMessage message={form.message} />
      {done ? (
        <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
          Password changed. Your other sessions and API tokens have ended.
        </p>
      ) : null}
      <Button type="submit" disabled={form.pending || done}>
        {form.pending || done ? 'Changing…' : 'Change password'}
      </Button>
    </form>
  );
}
