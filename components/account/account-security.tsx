'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import {
  ZMfaConfirm,
  ZMfaDisable,
  ZMfaStart,
  type TMfaEnrolment,
  type TMfaRecoveryCodes,
  type TMfaStatus,
} from '@/lib/shared/schemas/mfa';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { RelativeTime } from '@/components/ui/relative-time';
import { ApiTokens } from './api-tokens';

const STATUS_KEY = queryKeys.static('me', { sub: 'mfa' });

/**
 * Account security: MFA for one's own user. Enrol (scan the QR code or type the secret,
 * then confirm with a first code), see the recovery codes once, turn it off (refused by
 * the server while the group requires MFA). Reachable before enrolment by a user whose
 * group requires it: this page is outside the panel layout for that reason. The page is
 * the person's own even while a view-as is open (`viewingAs`), but a view is read-only:
 * its state shows, its forms do not (the server refuses them then).
 */
export function AccountSecurity({
  viewingAs = false,
  email,
}: {
  viewingAs?: boolean;
  /** The signed-in person's: a token is issued by signing in again as them. */
  email: string;
}) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: STATUS_KEY,
    queryFn: () => apiFetch<TMfaStatus>(pathOf(STATUS_KEY)),
    // Read afresh each time the page opens, and forgotten once it closes: the tab's client
    // outlives a sign-out and another person's sign-in (this page has no live feed to say
    // so), and one person's MFA state must never show on another's page.
    staleTime: 0,
    gcTime: 0,
    refetchOnMount: 'always',
  });
  const [enrolment, setEnrolment] = useState<TMfaEnrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  // Ending a view-as from here: its own pending state and error, as a form's.
  const [stopping, setStopping] = useState<{ pending: boolean; error: string | null }>({
    pending: false,
    error: null,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: STATUS_KEY });

  // Enrolment starts with the current password (a stolen session must not enrol its app).
  const start = useSchemaForm({
    schema: ZMfaStart,
    defaultValues: { password: '' },
    toBody: (values) => values,
    submit: async (body) => {
      setCodes(null);
      setEnrolment(await apiFetch<TMfaEnrolment>('/me/mfa', { method: 'POST', body }));
      await refresh();
    },
  });

  const confirm = useSchemaForm({
    schema: ZMfaConfirm,
    defaultValues: { otp: '' },
    toBody: (values) => values,
    submit: async (body) => {
      const answer = await apiFetch<TMfaRecoveryCodes>('/me/mfa/confirm', {
        method: 'POST',
        body,
      });
      setEnrolment(null);
      setCodes(answer.recoveryCodes);
      await refresh();
      // The rest of the panel may have been closed until now (a group that requires MFA).
      router.refresh();
    },
  });

  const turnOff = useSchemaForm({
    schema: ZMfaDisable,
    defaultValues: { otp: '', password: '' },
    // A code when one is given, else the password (the server asks for either).
    toBody: (values) =>
      optional(values.otp)
        ? { otp: values.otp }
        : values.password
          ? { password: values.password }
          : {},
    submit: async (body) => {
      await apiFetch('/me/mfa', { method: 'DELETE', body });
      setCodes(null);
      await refresh();
    },
  });

  const mfa = status.data;
  return (
    <div className="space-y-6">
      <section
        aria-label="Two-factor authentication"
        className="rounded-lg border border-slate-200 bg-white p-4"
      >
        <h2 className="mb-3 text-sm font-semibold text-slate-700">
          Two-factor authentication (MFA)
        </h2>
        {status.isLoading ? <p className="text-sm text-slate-500">Loading…</p> : null}
        {status.error ? (
          <p role="alert" className="text-sm text-red-700">
            Could not load: {(status.error as Error).message}
          </p>
        ) : null}
        {mfa && mfa.required && !mfa.enabled ? (
          <p role="note" className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
            Your group requires MFA. Enrol an authenticator app to use the panel.
          </p>
        ) : null}
        {mfa?.enabled ? (
          <p className="text-sm text-slate-700" data-testid="mfa-state">
            MFA is <strong>on</strong> since <RelativeTime at={mfa.enabledAt!} />.{' '}
            {mfa.recoveryCodesLeft} recovery codes left.
          </p>
        ) : mfa ? (
          <p className="text-sm text-slate-700" data-testid="mfa-state">
            MFA is <strong>off</strong>. Sign-in asks only for your password.
          </p>
        ) : null}

        {mfa && viewingAs ? (
          <div
            role="note"
            className="mt-3 space-y-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900"
          >
            <p>
              You are viewing the panel as someone else, which is read-only: end the view to change
              your own security settings.
            </p>
            <Button
              type="button"
              disabled={stopping.pending}
              onClick={async () => {
                setStopping({ pending: true, error: null });
                try {
                  await apiFetch('/impersonation', { method: 'DELETE' });
                } catch (error) {
                  setStopping({
                    pending: false,
                    error: `Could not end the view: ${(error as Error).message}`,
                  });
                  return;
                }
                setStopping({ pending: false, error: null });
                await refresh();
                router.refresh();
              }}
            >
              Stop viewing
            </Button>
            <FormMessage message={stopping.error} />
          </div>
        ) : null}

        {mfa && !mfa.enabled && !enrolment && !viewingAs ? (
          <form
            onSubmit={start.onSubmit}
            className="mt-3 space-y-3"
            aria-label="Set up MFA"
            noValidate
          >
            <TextField
              id="mfa-start-password"
              label="Your current password"
              {...start.register('password')}
              type="password"
              autoComplete="current-password"
              error={start.fields.password}
              required
            />
            <FormMessage message={start.message} />
            <Button type="submit" disabled={start.pending}>
              {mfa.pending ? 'Start enrolment again' : 'Set up an authenticator app'}
            </Button>
          </form>
        ) : null}

        {enrolment ? (
          <div className="mt-4 space-y-3">
            <p className="text-sm text-slate-700">
              Scan this code with an authenticator app, or type the secret in by hand. Then enter
              the 6-digit code the app shows.
            </p>
            {/* An SVG data URL from the server: an image, never a script. */}
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img
              src={enrolment.qrCode}
              alt="QR code for your authenticator app"
              width={192}
              height={192}
              className="rounded border border-slate-200 bg-white"
            />
            <p className="text-sm text-slate-700">
              Secret:{' '}
              <code data-testid="mfa-secret" className="break-all font-mono text-slate-900">
                {enrolment.secret}
              </code>
            </p>
            <form
              onSubmit={confirm.onSubmit}
              className="space-y-3"
              aria-label="Confirm MFA"
              noValidate
            >
              <TextField
                id="mfa-confirm-otp"
                label="Code from the app"
                {...confirm.register('otp')}
                inputMode="numeric"
                autoComplete="one-time-code"
                error={confirm.fields.otp}
                required
              />
              <FormMessage message={confirm.message} />
              <Button type="submit" disabled={confirm.pending}>
                Turn on MFA
              </Button>
            </form>
          </div>
        ) : null}

        {codes ? (
          <div
            className="mt-4 space-y-2 rounded-md bg-green-50 p-3"
            role="status"
            aria-label="Recovery codes"
          >
            <p className="text-sm font-medium text-green-900">
              MFA is on, and your other sessions have ended. Keep these recovery codes somewhere
              safe: each signs in once in place of a code. They are shown only now.
            </p>
            <ul className="grid grid-cols-2 gap-1 font-mono text-sm" data-testid="recovery-codes">
              {codes.map((code) => (
                <li key={code}>{code}</li>
              ))}
            </ul>
          </div>
        ) : null}

        {mfa?.enabled && !mfa.required && !viewingAs ? (
          <form
            onSubmit={turnOff.onSubmit}
            className="mt-4 space-y-3 border-t border-slate-200 pt-4"
            aria-label="Turn off MFA"
            noValidate
          >
            <p className="text-sm text-slate-700">
              To turn MFA off, enter a current code (or a recovery code) or your password.
            </p>
            <TextField
              id="mfa-off-otp"
              label="Code"
              {...turnOff.register('otp')}
              autoComplete="one-time-code"
              error={turnOff.fields.otp}
            />
            <TextField
              id="mfa-off-password"
              label="or password"
              {...turnOff.register('password')}
              type="password"
              autoComplete="current-password"
              error={turnOff.fields.password}
            />
            <FormMessage message={turnOff.message} />
            <Button type="submit" disabled={turnOff.pending}>
              Turn off MFA
            </Button>
          </form>
        ) : null}
        {mfa?.enabled && mfa.required ? (
          <p className="mt-3 text-sm text-slate-600">
            Your group requires MFA, so it stays on. An administrator can reset it if you lose your
            authenticator.
          </p>
        ) : null}
      </section>
      {/* One's own tokens: not while viewing as someone (read-only, and not one's own),
          nor before a required enrolment (nothing else answers until then). */}
      {mfa && !viewingAs && !(mfa.required && !mfa.enabled) ? (
        <ApiTokens email={email} mfaOn={mfa.enabled} />
      ) : null}
    </div>
  );
}
