import type { Metadata } from 'next';
import { PanelLink } from '@/components/ui/panel-link';
import { PasswordChangeForm } from '@/components/auth/password-change-form';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { requireGatePage } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Change password' };

/**
 * One's own password change. After an admin reset the door holds the person here (every
 * panel page redirects to it, the API and the socket refuse) until the change is made.
 */
export default async function PasswordPage() {
  const { actor, held, viewingAs } = await requireGatePage('password_change_required');
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight text-brand-900">Change password</h1>
        <p className="mb-6 mt-1 text-sm text-slate-600">
          {held
            ? `Signed in as ${actor.email}. Your administrator reset your password: choose a new one to continue.`
            : `Signed in as ${actor.email}. Your other sessions and API tokens end when you change it.`}
        </p>
        {viewingAs ? (
          // A view is read-only: the server refuses the change until it ends.
          <p role="note" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
            You are viewing the panel as someone else, which is read-only: end the view to change
            your own password.
          </p>
        ) : (
          <PasswordChangeForm forced={held} />
        )}
        <div className="mt-6 flex items-center justify-between text-sm">
          {held ? (
            <span />
          ) : (
            <PanelLink className="text-brand-700 underline" href="/">
              Back to the panel
            </PanelLink>
          )}
          <SignOutButton />
        </div>
      </div>
    </main>
  );
}
