import { AccountsPanel } from '@/components/accounts/accounts-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <AccountsPanel
      kind="resellers"
      canCreate={actor.grants.includes('resellers:create') && !actor.impersonation}
      canEdit={actor.grants.includes('resellers:update') && !actor.impersonation}
    />
  );
}
