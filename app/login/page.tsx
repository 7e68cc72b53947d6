import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LoginForm } from '@/components/auth/login-form';
import { getPageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Sign in · Reseller Panel' };

export default async function LoginPage() {
  if (await getPageActor()) redirect('/');
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight text-brand-900">Reseller Panel</h1>
        <p className="mb-6 mt-1 text-sm text-slate-600">Sign in with your email and password.</p>
        <LoginForm />
      </div>
    </main>
  );
}
