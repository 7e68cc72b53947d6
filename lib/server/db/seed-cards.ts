import type { EntityManager } from '@mikro-orm/postgresql';
import { Card, CardAssignment, type TAccount, type TCard } from '@/lib/server/entities';
import type { TChange } from '@/lib/server/live/change-log';
import { cardChange, toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { assignmentChange } from '@/lib/server/services/assignments/assignment-store';
import { rederive, refreshCounts, writeRateRows } from '@/lib/server/services/rates/rate-sets';
import { liveNow } from '@/lib/server/services/rates/revisions';
import { ZRateInput } from '@/lib/shared/schemas/rates';

/** A small upstream price list: a few destinations, the usual billing structures. */
const DEMO_RATES = [
  ['1', 'United States', '0.0060', 6, 6],
  ['1212', 'United States, New York', '0.0055', 6, 6],
  ['33', 'France', '0.0120', 60, 60],
  ['336', 'France mobile', '0.0310', 60, 60],
  ['44', 'United Kingdom', '0.0090', 30, 6],
  ['447', 'United Kingdom mobile', '0.0250', 30, 6],
  ['441481', 'Guernsey', '0.1400', 30, 6],
  ['49', 'Germany', '0.0110', 60, 60],
  ['4915', 'Germany mobile', '0.0390', 60, 60],
  ['91', 'India', '0.0180', 1, 1],
].map(([prefix, destination, rate, initialIncrement, increment]) =>
  ZRateInput.parse({ prefix, destination, rate, initialIncrement, increment }),
);

/** The demo tree's accounts the cards go to (lib/server/db/seed.ts). */
export interface TDemoHolders {
  acme: TAccount;
  acmeEast: TAccount;
  blue: TAccount;
  direct: TAccount;
  hotel: TAccount;
  clinic: TAccount;
  taxis: TAccount;
  grocers: TAccount;
}

/**
 * The demo carrier's cards (embedded first start only): an upstream provider card, a
 * customer card derived from it (25 % on top, rounded up), held by the resellers and by a
 * direct customer; and each reseller's own retail card derived from what it holds, held
 * by its customers (Acme East's from Acme's) — so master mode, reseller mode, the price
 * trace and rating (`npm run demo:traffic`) have a whole chain to show at every level.
 * Written like any other change (inside the caller's `mutate`).
 */
export async function addDemoCards(
  tx: EntityManager,
  record: (change: TChange) => void,
  carrier: TAccount,
  holders: TDemoHolders,
): Promise<void> {
  const card = (
    owner: TAccount,
    name: string,
    kind: 'provider' | 'customer',
    parent: TCard | null,
    markupPercent: string | null,
  ) =>
    tx.create(Card, {
      owner,
      name,
      currency: 'EUR',
      kind,
      decimals: 4,
      rounding: parent ? 'up' : 'half_up',
      parent,
      markupPercent,
      markupFixed: null,
      overrides: null,
    });
  const upstream = card(carrier, 'Upstream Wholesale', 'provider', null, null);
  await tx.flush();
  await writeRateRows(tx, upstream.id, DEMO_RATES, 'replace', liveNow('put'));
  await refreshCounts(tx, upstream);
  record(cardChange(upstream, carrier.path, 'created', null, toCardOwnerDto(upstream), []));

  /** A card derived from `parent`, owned by `owner`, assigned to each of `to`. */
  const derived = async (
    owner: TAccount,
    name: string,
    parent: TCard,
    percent: string,
    to: TAccount[],
  ) => {
    const made = card(owner, name, 'customer', parent, percent);
    await tx.flush();
    // Its one parent in the list every chain reader follows (derive-card.ts writes it too).
    await tx.execute(`insert into card_parent (card_id, parent_id, position) values (?, ?, 0)`, [
      made.id,
      parent.id,
    ]);
    await rederive(tx, made.id, { plan: liveNow('parent') });
    await refreshCounts(tx, made);
    const dto = toCardOwnerDto(made);
    record(cardChange(made, owner.path, 'created', null, dto, []));
    for (const account of to) {
      const assignment = tx.create(CardAssignment, {
        card: made,
        account,
        exclusive: account.kind === 'customer',
      });
      await tx.flush();
      record(assignmentChange(assignment, owner.path, 'created', dto));
    }
    return made;
  };
  const { acme, acmeEast, blue, direct, hotel, clinic, taxis, grocers } = holders;
  const retail = await derived(carrier, 'Carrier Retail', upstream, '25', [acme, blue, direct]);
  const acmeStandard = await derived(acme, 'Acme Standard', retail, '20', [
    hotel,
    clinic,
    acmeEast,
  ]);
  await derived(acmeEast, 'Acme East Retail', acmeStandard, '15', [taxis]);
  await derived(blue, 'Blue Retail', retail, '30', [grocers]);
}
