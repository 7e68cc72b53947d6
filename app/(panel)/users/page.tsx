import { UsersPanel } from '@/components/users/users-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <UsersPanel
      own={{ id: actor.account.id, name: actor.account.name }}
      can={uiAbilities(actor).users}
    />
  );
}
