import { CardsPanel } from '@/components/cards/cards-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return <CardsPanel accountId={actor.account.id} can={uiAbilities(actor).cards} />;
}
