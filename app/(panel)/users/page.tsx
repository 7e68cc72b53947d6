import { UsersPanel } from '@/components/users/users-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <UsersPanel
      own={{ id: actor.account.id, name: actor.account.name }}
      canCreate={actor.grants.includes('users:create') && !actor.impersonation}
      canUpdate={actor.grants.includes('users:update') && !actor.impersonation}
      canImpersonate={actor.grants.includes('impersonation:start') && !actor.impersonation}
      canExplain={actor.grants.includes('users:read') && actor.grants.includes('groups:read')}
    />
  );
}
