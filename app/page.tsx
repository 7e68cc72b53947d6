import { redirect } from 'next/navigation';
import { AppHeader } from '@/components/shell/app-header';
import { getPageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

/** The signed-in shell. Later issues fill it with the dashboard and the panel's pages. */
export default async function HomePage() {
  const actor = await getPageActor();
  if (!actor) redirect('/login');

  return (
    <div className="min-h-screen">
      <AppHeader user={actor} account={actor.account} group={actor.group} />
      <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
        <h1 className="text-2xl font-semibold tracking-tight">Welcome, {actor.name}</h1>
        <p className="mt-2 text-sm text-slate-600">
          You are signed in to <span className="font-medium">{actor.account.name}</span> with the
          group <span className="font-medium">{actor.group.name}</span>.
        </p>
        <section
          aria-labelledby="grants-heading"
          className="mt-6 rounded-lg border border-slate-200 bg-white p-4"
        >
          <h2 id="grants-heading" className="text-sm font-semibold text-slate-700">
            Your permissions
          </h2>
          <ul className="mt-2 flex flex-wrap gap-1.5" data-testid="grants">
            {actor.grants.map((grant) => (
              <li
                key={grant}
                className="rounded bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-700"
              >
                {grant}
              </li>
            ))}
          </ul>
        </section>
      </main>
    </div>
  );
}
