import type { EntityManager } from '@mikro-orm/postgresql';
import type { TCard } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { DomainError, invalidInput, staleVersion } from '@/lib/server/errors/domain-error';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import type { TRatesImported, TRatesWritten } from '@/lib/shared/schemas/cards';
import type { TRateInput, TRateKey, TRatePatchRow, TRatesPatch } from '@/lib/shared/schemas/rates';
import { databaseClock } from '@/lib/server/db/clock';
import { toCardOwnerDto } from '@/lib/server/services/cards/card-store';
import { findCardForRateWrite } from './rate-access';
import {
  KEPT_TERMS,
  rateSetChanged,
  UndatedBehindDated,
  writeRateRows,
  type TKeptTerm,
} from './rate-sets';
import { DerivedRateOutOfRange, inputRowOf } from './derived-range';
import { revisionRef } from './revision-queries';
import {
  assertAfterScheduled,
  rateKeysJson,
  rateKeysSql,
  RowsInThePast,
  sameKey,
  type TRecordedRevision,
  type TRevisionPlan,
} from './revisions';
import { nudgeRevisionTimer } from './apply-revisions';
import { finerThan, parseRatesCsv, rateKey, type TCsvLineError } from './rates-csv';

/**
 * `PUT /cards/{id}/rates`: the whole set replaced in one transaction, cards derived from
 * it recomputed in the same one. Rows finer than the card's precision, or naming a
 * prefix twice for the same effective time, are 400s naming the row.
 */
export async function replaceRates(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  rows: TRateInput[],
  liveAt: Date | null = null,
  expectedVersion?: number,
): Promise<TRatesWritten> {
  const written = await mutate(em, actor, async (tx, record) => {
    const { card, ownerPath } = await findCardForRateWrite(tx, actor, unverifiedCardId);
    assertVersion(card, expectedVersion);
    const { fields } = rowFaults(rows, card.decimals, 'rates');
    if (Object.keys(fields).length) throw invalidInput(fields);
    const plan = { source: 'put', liveAt, createdBy: actor.userId } as const;
    const revision = await writeNamingRows(tx, card, ownerPath, record, plan, {
      rows,
      list: 'rates',
      mode: 'replace',
    });
    return { card: toCardOwnerDto(card), rows: card.rateCount, revision };
  });
  if (!written.revision.live) nudgeRevisionTimer();
  // After the commit: a live-now revision is dated in its carrier's commit order (`settleDates`).
  return { ...written, revision: revisionRef(written.revision) };
}

/**
 * `PATCH /cards/{id}/rates`: rows added, replaced or taken out by hand, the rest of the
 * set kept — the card's next revision, as a merge import would write it, derived cards
 * recomputed in the same transaction. A row named twice, a removal of a row the card does
 * not have (in its latest revision) or of one also given, and money finer than the
 * card's precision are 400s naming the row; nothing is written then.
 */
export async function patchRates(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  patch: TRatesPatch,
): Promise<TRatesWritten> {
  const written = await mutate(em, actor, async (tx, record) => {
    const { card, ownerPath } = await findCardForRateWrite(tx, actor, unverifiedCardId);
    assertVersion(card, patch.version);
    const liveAt = patch.liveAt ? new Date(patch.liveAt) : null;
    // The rows below are checked against the latest revision: while one is scheduled, that
    // is the answer (a live row it drops is not "missing", it is going).
    await assertAfterScheduled(tx, card.id, liveAt);
    const upsert = await datedNow(tx, patch.upsert);
    const { fields, given } = rowFaults(upsert, card.decimals, 'upsert');
    const removed = new Map<string, number>();
    patch.remove.forEach((row, index) => {
      const key = rateKey(row);
      const also = given.get(key);
      const first = removed.get(key);
      if (also !== undefined) fields[`remove.${index}.prefix`] = `is also in upsert.${also}`;
      else if (first !== undefined) fields[`remove.${index}.prefix`] = `repeats remove.${first}`;
      else removed.set(key, index);
    });
    if (patch.remove.length) {
      // Only what the card has: a removal that matches nothing is a typo, not a no-op.
      const missing = await tx.execute<{ i: number }[]>(
        `select k.i from ${rateKeysSql('k')}
          where not exists (select 1 from rate_history h
                             where h.card_id = ? and h.to_rev is null and ${sameKey('k', 'h')})`,
        [rateKeysJson(patch.remove), card.id],
      );
      for (const { i } of missing) fields[`remove.${i}.prefix`] ??= 'is not on the card';
    }
    if (Object.keys(fields).length) throw invalidInput(fields);
    const plan = { source: 'put', liveAt, createdBy: actor.userId } as const;
    const revision = await writeNamingRows(tx, card, ownerPath, record, plan, {
      rows: upsert,
      list: 'upsert',
      mode: 'merge',
      remove: patch.remove,
    });
    return { card: toCardOwnerDto(card), rows: card.rateCount, revision };
  });
  if (!written.revision.live) nudgeRevisionTimer();
  return { ...written, revision: revisionRef(written.revision) };
}

/**
 * A JSON write's rows checked whole: money finer than the card prices and a prefix named
 * twice for one effective time, each named by its place in `list` (`rates.3.rate`);
 * `given` is each row's key and index, for the checks that follow.
 */
function rowFaults(
  rows: TRateInput[],
  decimals: number,
  list: string,
): { fields: Record<string, string>; given: Map<string, number> } {
  const fields: Record<string, string> = {};
  const given = new Map<string, number>();
  rows.forEach((row, index) => {
    const finer = finerThan(row, decimals);
    if (finer) fields[`${list}.${index}.${finer.split(' ')[0]}`] = finer;
    const key = rateKey(row);
    const first = given.get(key);
    if (first !== undefined) fields[`${list}.${index}.prefix`] = `repeats ${list}.${first}`;
    else given.set(key, index);
  });
  return { fields, given };
}

/**
 * A JSON write's rows as the card's next revision, its derived cards recomputed; a derived
 * card that would overflow names the row of the request that priced it (`list.N.column`).
 */
async function writeNamingRows(
  tx: EntityManager,
  card: TCard,
  ownerPath: string,
  record: (change: TChange) => void,
  plan: TRevisionPlan,
  write: {
    rows: TRateInput[];
    list: string;
    mode: 'replace' | 'merge';
    remove?: readonly TRateKey[];
  },
): Promise<TRecordedRevision> {
  const revision = await writeRateRows(tx, card.id, write.rows, write.mode, plan, write.remove);
  try {
    await rateSetChanged(tx, card, ownerPath, 'put', record, undefined, revision, plan.createdBy);
  } catch (error) {
    if (!(error instanceof DerivedRateOutOfRange)) throw error;
    const index = inputRowOf(write.rows, error.row);
    throw index === undefined ? error : error.naming(`${write.list}.${index}.${error.row.column}`);
  }
  return revision;
}

/**
 * Rows dated `"now"` at the transaction's time by the database's clock (what the check
 * against retroactive rows compares with), the millisecond after it: rows are kept to
 * the millisecond, and one cut down to it would be dated just before it was written.
 */
async function datedNow(tx: EntityManager, rows: TRatePatchRow[]): Promise<TRateInput[]> {
  if (!rows.some((row) => row.effectiveFrom === 'now')) return rows as TRateInput[];
  const now = await databaseClock(tx, 'transaction');
  const at = new Date(now.getTime() + 1).toISOString();
  return rows.map(
    (row) => (row.effectiveFrom === 'now' ? { ...row, effectiveFrom: at } : row) as TRateInput,
  );
}

/**
 * `POST /cards/{id}/rates/import`: a CSV streamed in and checked whole before anything
 * is written — any bad row and the answer is 400 listing every bad line with its
 * reason (up to 1000), and the card is untouched. `replace` swaps the set; `merge`
 * adds rows and updates those with the same prefix and effective time.
 */
export async function importRates(
  em: EntityManager,
  actor: TActor,
  unverifiedCardId: string,
  body: AsyncIterable<Uint8Array>,
  mode: 'replace' | 'merge',
  limits: { maxRows: number },
  liveAt: Date | null = null,
  expectedVersion?: number,
): Promise<TRatesImported> {
  // Who may write, and from which version, before reading a byte of the body.
  const { card: checked } = await mutate(em, actor, async (tx) => {
    const found = await findCardForRateWrite(tx, actor, unverifiedCardId);
    assertVersion(found.card, expectedVersion);
    return found;
  });
  const parsed = await parseRatesCsv(body, {
    maxRows: limits.maxRows,
    maxDecimals: checked.decimals,
  });
  if (parsed.errors.length) throw csvRejected(parsed.errors);
  const imported = await mutate(em, actor, async (tx, record) => {
    const { card, ownerPath } = await findCardForRateWrite(tx, actor, unverifiedCardId);
    // Again under the card's lock: another write may have landed while the file streamed.
    assertVersion(card, expectedVersion);
    if (card.decimals !== checked.decimals) {
      // Its precision changed while the file streamed in: check again, still whole.
      const finer = parsed.rows.findIndex((row) => finerThan(row, card.decimals));
      if (finer >= 0)
        throw csvRejected([{ line: 1, reason: "the card's precision changed; import again" }]);
    }
    const plan = { source: 'import', liveAt, createdBy: actor.userId } as const;
    // A merged file without a term's column keeps that term of each row it replaces.
    const keep = (Object.keys(KEPT_TERMS) as TKeptTerm[]).filter(
      (term) => !parsed.columns.includes(term),
    );
    const revision = await writeRateRows(tx, card.id, parsed.rows, mode, plan, [], keep).catch(
      (error: unknown) => {
        // Rows dated in the past: the lines of the file that hold them, as every other
        // refusal of a file names its lines.
        if (error instanceof RowsInThePast) {
          throw csvRejected(
            linesOf(parsed.lines, error.rows, (row) => {
              const at = new Date(row.effective_from).toISOString();
              return [
                { prefix: row.prefix, effectiveFrom: at },
                `effectiveFrom ${at} is in the past: a revision is not retroactive (date it from now on, or leave it empty)`,
              ];
            }),
          );
        }
        // An undated row merged in behind a dated one in force: its line.
        if (error instanceof UndatedBehindDated) {
          throw csvRejected(
            linesOf(parsed.lines, error.rows, (row) => [
              { prefix: row.prefix },
              `effectiveFrom is empty, while prefix ${row.prefix} has a row dated ${new Date(row.effective_from).toISOString()} in force, which prices calls over an undated one: date this row from when it should apply`,
            ]),
          );
        }
        throw error;
      },
    );
    try {
      await rateSetChanged(
        tx,
        card,
        ownerPath,
        'import',
        record,
        undefined,
        revision,
        actor.userId,
      );
    } catch (error) {
      // A derived card below would overflow: the line of the file that priced it.
      if (!(error instanceof DerivedRateOutOfRange)) throw error;
      const index = inputRowOf(parsed.rows, error.row);
      const line = index === undefined ? undefined : parsed.lines.get(rateKey(parsed.rows[index]!));
      if (line === undefined) throw error;
      throw csvRejected([{ line, reason: `${error.row.column} ${error.reason}` }]);
    }
    return {
      card: toCardOwnerDto(card),
      rows: card.rateCount,
      mode,
      revision,
    };
  });
  if (!imported.revision.live) nudgeRevisionTimer();
  // After the commit: a live-now revision is dated in its carrier's commit order (`settleDates`).
  return { ...imported, revision: revisionRef(imported.revision) };
}

/**
 * The card is still at the version the caller made its set from (held under the card's
 * lock by the caller): a set replaced from an older copy would silently drop what another
 * write put there since — 409 with the card as it is instead.
 */
function assertVersion(card: TCard, expected: number | undefined): void {
  if (expected !== undefined && card.version !== expected) {
    throw staleVersion(toCardOwnerDto(card));
  }
}

/** The file's line of each row a write refused, with why, in the file's order. */
function linesOf<T>(
  lines: ReadonlyMap<string, number>,
  rows: T[],
  describe: (row: T) => [Pick<TRateInput, 'prefix' | 'effectiveFrom'>, string],
): TCsvLineError[] {
  return rows
    .map((row) => {
      const [key, reason] = describe(row);
      return { line: lines.get(rateKey(key)) ?? 1, reason };
    })
    .sort((a, b) => a.line - b.line);
}

function csvRejected(lines: TCsvLineError[]): DomainError {
  return new DomainError(
    'invalid_input',
    'invalid_csv',
    `${lines.length} line${lines.length === 1 ? '' : 's'} of the file cannot be imported; nothing was written.`,
    { lines },
  );
}
