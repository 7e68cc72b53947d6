import type { Metadata } from 'next';
import { TracePanel } from '@/components/trace/trace-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { PageHeading } from '@/components/shell/page-heading';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Price trace' };

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <>
      <PageHeading>Price trace</PageHeading>
      <TracePanel account={{ id: actor.account.id, name: actor.account.name }} />
    </>
  );
}
