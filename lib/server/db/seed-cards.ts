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

/**
 * The demo carrier's cards (embedded first start only): an upstream provider card, a
 * customer card derived from it (25 % on top, rounded up), held by a reseller and by a
 * direct customer — so master mode, reseller mode and the price trace have something
 * to show. Written like any other change (inside the caller's `mutate`).
 */
export async function addDemoCards(
  tx: EntityManager,
  record: (change: TChange) => void,
  carrier: TAccount,
  holders: TAccount[],
): Promise<void> {
  const card = (name: string, kind: 'provider' | 'customer', parent: TCard | null) =>
    tx.create(Card, {
      owner: carrier,
      name,
      currency: 'EUR',
      kind,
      decimals: 4,
      rounding: parent ? 'up' : 'half_up',
      parent,
      markupPercent: parent ? '25' : null,
      markupFixed: null,
      overrides: null,
    });
  const upstream = card('Upstream Wholesale', 'provider', null);
  await tx.flush();
  await writeRateRows(tx, upstream.id, DEMO_RATES, 'replace', liveNow('put'));
  await refreshCounts(tx, upstream);
  record(cardChange(upstream, carrier.path, 'created', null, toCardOwnerDto(upstream), []));

  const retail = card('Carrier Retail', 'customer', upstream);
  await tx.flush();
  await rederive(tx, retail.id, { plan: liveNow('parent') });
  await refreshCounts(tx, retail);
  const retailDto = toCardOwnerDto(retail);
  record(cardChange(retail, carrier.path, 'created', null, retailDto, []));
  for (const account of holders) {
    const assignment = tx.create(CardAssignment, {
      card: retail,
      account,
      exclusive: account.kind === 'customer',
    });
    await tx.flush();
    record(assignmentChange(assignment, carrier.path, 'created', retailDto));
  }
}
