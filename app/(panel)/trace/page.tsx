import { TracePanel } from '@/components/trace/trace-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return <TracePanel account={{ id: actor.account.id, name: actor.account.name }} />;
}
