import { GroupsPanel } from '@/components/groups/groups-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page({ searchParams }: { searchParams: Promise<{ user?: string }> }) {
  const actor = await requirePageActor();
  const { user } = await searchParams;
  const writes = !actor.impersonation;
  return (
    <GroupsPanel
      grants={actor.grants}
      canCreate={actor.grants.includes('groups:create') && writes}
      canUpdate={actor.grants.includes('groups:update') && writes}
      canDelete={actor.grants.includes('groups:delete') && writes}
      canExplain={actor.grants.includes('users:read') && actor.grants.includes('groups:read')}
      explainUserId={typeof user === 'string' ? user : undefined}
    />
  );
}
