import type { Metadata } from 'next';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { DashboardPanel } from '@/components/dashboard/dashboard-panel';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Overview' };

/** The overview: what needs attention, live counters, recent activity, and who the person is here. */
export default async function HomePage() {
  const actor = await requirePageActor();
  return (
    <>
      <h1 className="text-2xl font-semibold tracking-tight">Welcome, {actor.name}</h1>
      <div className="mt-4">
        <DashboardPanel me={toMeDto(actor)} can={uiAbilities(actor)} />
      </div>
    </>
  );
}
