'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { useHydrated } from '@/lib/client/use-viewer-locale';

/**
 * Email + password sign-in. Every refusal reads the same: no hint whether an email
 * exists, nor (on a brand's portal, `portal`) whether it belongs to another portal. When the server says the password was right and the user has MFA on, the form
 * asks for the code (or a recovery code) and sends all three again.
 */
export function LoginForm({
  portal = false,
  next = '/',
}: {
  portal?: boolean;
  /** Where to go once signed in: the page that sent here (checked by the login page). */
  next?: string;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [needsCode, setNeedsCode] = useState(false);
  const hydrated = useHydrated();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const result = await signIn('credentials', {
      email: String(form.get('email') ?? ''),
      password: String(form.get('password') ?? ''),
      ...(needsCode ? { otp: String(form.get('otp') ?? '') } : {}),
      redirect: false,
    }).catch(() => undefined);
    if (result?.ok && !result.error) {
      router.replace(next);
      router.refresh();
      return;
    }
    setPending(false);
    if (result?.error === 'otp_required' || result?.error === 'otp_invalid') setNeedsCode(true);
    setError(explain(result?.error, needsCode, portal));
  }

  return (
    <form onSubmit={onSubmit} aria-label="Sign in" className="space-y-4" noValidate>
      <div>
        <label htmlFor="email" className="block text-sm font-medium text-slate-700">
          Email
        </label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500"
        />
      </div>
      <div>
        <label htmlFor="password" className="block text-sm font-medium text-slate-700">
          Password
        </label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500"
        />
      </div>
      {needsCode ? (
        <div>
          <label htmlFor="otp" className="block text-sm font-medium text-slate-700">
            Authentication code
          </label>
          <input
            id="otp"
            name="otp"
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            autoFocus
            required
            aria-describedby="otp-help"
            className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500"
          />
          <p id="otp-help" className="mt-1 text-xs text-slate-500">
            The 6-digit code from your authenticator app, or one of your recovery codes.
          </p>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {error}
        </p>
      ) : null}
      <button
        type="submit"
        // Before hydration a submit would be the browser's own: a GET, password in the URL.
        disabled={pending || !hydrated}
        className="w-full rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-2 disabled:opacity-60"
      >
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function explain(error: string | null | undefined, askedForCode: boolean, portal: boolean): string {
  // On a portal a user from elsewhere gets this very answer too: it must not tell
  // whether the email exists (lib/server/auth/login.ts).
  if (error === 'CredentialsSignin') {
    return portal
      ? 'Wrong email or password, or your account signs in elsewhere: sign in on your own portal.'
      : 'Wrong email or password.';
  }
  if (error === 'otp_required') {
    return askedForCode
      ? 'Enter the code from your authenticator app.'
      : 'Enter the code from your authenticator app to finish signing in.';
  }
  if (error === 'otp_invalid') return 'That code is wrong or was used already. Try the next one.';
  const throttled = /^throttled:(\d+)$/.exec(error ?? '');
  if (throttled) {
    return `Too many failed attempts. Try again in ${throttled[1]} seconds.`;
  }
  return 'Sign-in is unavailable right now. Try again in a moment.';
}
