import { AccountsPanel } from '@/components/accounts/accounts-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <AccountsPanel
      kind="customers"
      can={uiAbilities(actor).customers}
      own={{ id: actor.account.id, name: actor.account.name }}
      canAssign={uiAbilities(actor).cards.assign}
    />
  );
}
