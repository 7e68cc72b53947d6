import { AccountsPanel } from '@/components/accounts/accounts-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <AccountsPanel
      kind="customers"
      canCreate={actor.grants.includes('customers:create') && !actor.impersonation}
      canEdit={actor.grants.includes('customers:update') && !actor.impersonation}
      own={{ id: actor.account.id, name: actor.account.name }}
    />
  );
}
