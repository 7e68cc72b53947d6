import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict } from '@/lib/server/errors/domain-error';
import { MAX_CHAIN_LEVELS } from '@/lib/shared/schemas/rates';

/**
 * How far the recursive queries follow `card_parent`: enough to tell any real chain's
 * length, and an end to the walk should a cycle ever be written past the checks.
 */
const WALK_LIMIT = 64;

/**
 * Each card's levels: the cards of the longest chain from a top card (one that follows
 * none) down to it, itself included — a top card is 1. Through every parent link, as the
 * recompute follows them (`rateSetChanged`).
 */
async function levelsOf(tx: EntityManager, ids: readonly string[]): Promise<Map<string, number>> {
  // `union`, not `union all`: a card reached by several paths at the same level is walked
  // once, so cards with several parents do not multiply the rows.
  const rows = await tx.execute<{ id: string; levels: number }[]>(
    `with recursive up(origin, id, levels) as (
       select x.id, x.id, 1 from unnest(?::uuid[]) x(id)
       union
       select up.origin, cp.parent_id, up.levels + 1
         from card_parent cp join up on cp.card_id = up.id
        where up.levels < ?)
     select origin::text as id, max(levels)::int as levels from up group by origin`,
    [`{${ids.join(',')}}`, WALK_LIMIT],
  );
  return new Map(rows.map((row) => [row.id, Number(row.levels)]));
}

/** The cards of the longest chain from `cardId` down through those derived from it (1: none). */
async function levelsBelow(tx: EntityManager, cardId: string): Promise<number> {
  const [row] = await tx.execute<{ levels: number }[]>(
    `with recursive down(id, levels) as (
       select ?::uuid, 1
       union
       select cp.card_id, down.levels + 1
         from card_parent cp join down on cp.parent_id = down.id
        where down.levels < ?)
     select max(levels)::int as levels from down`,
    [cardId, WALK_LIMIT],
  );
  return Number(row?.levels ?? 1);
}

/**
 * A card about to follow `parents` (a new derived card, or an existing one whose parents
 * are replaced: `cardId`, with every card derived from it) must not make a chain longer
 * than MAX_CHAIN_LEVELS: past it a derived price can leave the range the panel stores
 * (lib/shared/schemas/rates.ts). Refused with 409 `chain_too_deep` naming, in `fields`,
 * each parent that is too deep, by the request's own name for it (`field`). A parent the
 * caller only holds (`held`) is named without figures: how many cards are above it is
 * its seller's side, not the holder's.
 */
export async function assertChainDepth(
  tx: EntityManager,
  parents: readonly { id: string; name: string; field: string; held?: boolean }[],
  cardId?: string,
): Promise<void> {
  const levels = await levelsOf(
    tx,
    parents.map((parent) => parent.id),
  );
  const below = cardId ? await levelsBelow(tx, cardId) : 1;
  const fields: Record<string, string> = {};
  let longest = 0;
  for (const parent of parents) {
    const deep = levels.get(parent.id) ?? 1;
    const chain = deep + below;
    if (chain <= MAX_CHAIN_LEVELS) continue;
    longest = Math.max(longest, chain);
    if (parent.held) {
      fields[parent.field] =
        `is too deep to follow: the chain would hold more than ${MAX_CHAIN_LEVELS} cards`;
      continue;
    }
    const depth = `is ${deep} card${deep > 1 ? 's' : ''} deep`;
    fields[parent.field] =
      below > 1
        ? `${depth}; with this card and the ${below - 1} level${below > 2 ? 's' : ''} derived from it the chain would hold ${chain} (at most ${MAX_CHAIN_LEVELS})`
        : `${depth}; a card derived from it would make a chain of ${chain} (at most ${MAX_CHAIN_LEVELS})`;
  }
  if (!longest) return;
  const deep = parents.filter((parent) => fields[parent.field]);
  const named = deep.map((parent) => `"${parent.name}"`).join(', ');
  const length = deep.some((parent) => parent.held) ? 'a longer one' : `one of ${longest}`;
  throw conflict(
    'chain_too_deep',
    `A chain of derived cards holds at most ${MAX_CHAIN_LEVELS} cards (the top one included), so that every derived price fits the range the panel stores; following ${named} would make ${length}.`,
    { fields, maxLevels: MAX_CHAIN_LEVELS },
  );
}
