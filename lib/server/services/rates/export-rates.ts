import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { RATE_CSV_COLUMNS } from '@/lib/shared/schemas/rates';
import { afterRateKey, toRateDto, type TRateRow } from './list-rates';
import { findCardForRates } from './rate-access';
import { csvStream, type TDownload } from '@/lib/server/services/csv';
import { notFound } from '@/lib/server/errors/domain-error';
import { rowsAt } from './revisions';

/** The `rate` view's columns (Migration20261220100000), read from history. */
const RATE_VIEW_COLUMNS = `card_id, prefix, destination, rate, connection_fee, initial_increment,
  increment, grace_seconds, minimum_seconds, effective_from, blocked, overridden, losing, priced_by`;

const BATCH = 5000;

/**
 * `GET /cards/{id}/rates/export`: the import's columns, streamed in batches by keyset
 * (a 100k-row card never sits in memory whole), every cell neutralized against
 * spreadsheet formulas. Access is decided before the first byte, and so is the revision:
 * every batch reads the set live then from history, so a revision going live while a
 * slow client reads gives no file mixing two sets (one imported back would be a set
 * that never existed).
 */
export async function exportRates(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  download: TDownload,
): Promise<{ filename: string; stream: ReadableStream<Uint8Array> }> {
  const { card, relation } = await findCardForRates(em, actor, unverifiedCardId);
  const shape = { decimals: card.decimals, derived: Boolean(card.parent) };
  const revision = card.liveRevision;
  let after: [string, Date | null] | null = null;
  const stream = csvStream(
    RATE_CSV_COLUMNS,
    async () => {
      const [filter, params] = after ? afterRateKey(...after) : ['true', []];
      const rows: TRateRow[] = await em.execute<TRateRow[]>(
        `select ${RATE_VIEW_COLUMNS} from rate_history
        where card_id = ? and ${rowsAt('rate_history')} and ${filter}
        order by prefix, coalesce(effective_from, '-infinity'::timestamptz)
        limit ?`,
        [card.id, revision, revision, ...params, BATCH],
      );
      if (!rows.length) return null;
      const last = rows.at(-1)!;
      after = [last.prefix, last.effective_from];
      return rows.map((row) => toRateDto(row, shape, relation === 'owner'));
    },
    async () => {
      await download.stillAllowed();
      // The card still in view, as it was: an assignment taken away mid-download ends it.
      const now = await findCardForRates(em.fork(), actor, card.id);
      if (now.relation !== relation) throw notFound('card');
    },
  );
  const safeName = card.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'rates';
  return { filename: `${safeName}.csv`, stream };
}
