import { CardsPanel } from '@/components/cards/cards-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  const writes = !actor.impersonation;
  const has = (grant: string) => actor.grants.some((held) => held === grant);
  return (
    <CardsPanel
      accountId={actor.account.id}
      can={{
        create: writes && has('cards:create'),
        update: writes && has('cards:update'),
        editRates: writes && has('rates:update'),
        readRates: has('rates:read'),
        assign: writes && has('assignments:create'),
        readAssignments: has('assignments:read'),
        unassign: writes && has('assignments:delete'),
      }}
    />
  );
}
