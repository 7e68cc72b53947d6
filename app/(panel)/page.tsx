import type { Metadata } from 'next';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { DashboardPanel } from '@/components/dashboard/dashboard-panel';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Overview · Reseller Panel' };

/** The overview: live counters, recent activity, and who the person is here. */
export default async function HomePage() {
  const actor = await requirePageActor();
  return (
    <>
      <h1 className="text-2xl font-semibold tracking-tight">Welcome, {actor.name}</h1>
      <p className="mt-2 text-sm text-slate-600">
        You are signed in to <span className="font-medium">{actor.account.name}</span> with the
        group <span className="font-medium">{actor.group.name}</span>.
      </p>
      <div className="mt-6">
        <DashboardPanel showActivity={uiAbilities(actor).dashboard.activity} />
      </div>
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
    </>
  );
}
