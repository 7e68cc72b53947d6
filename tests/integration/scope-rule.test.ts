import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { Account, type TAccount } from '@/lib/server/entities';
import {
  aboveFilter,
  belowFilter,
  belowSql,
  holdingFilter,
  holdsSql,
  onPathSql,
  carrierIdOf,
  isBelow,
  isWithin,
  withinFilter,
  withinSql,
  type TSqlFragment,
} from '@/lib/server/authz/scope';
import { useMigratedDatabase } from '../fixtures/migrated-database';
import { arrange } from '../fixtures/arrange';

/**
 * Property: the subtree rule asked in SQL (text fragments, MikroORM filters) on
 * PostgreSQL answers exactly what the TypeScript rule answers, over random account
 * trees. Some trees hang under a prefix made of `LIKE` metacharacters (`_`, `%`, `\`)
 * and some probes are arbitrary strings of them, so an unescaped pattern matches a path
 * the TypeScript rule rejects (`a_` would match `ab…`) and the property fails.
 */
const RUNS = 20;

const database = useMigratedDatabase();

const META = fc.constantFrom('a', 'b', '_', '%', '\\');

/** Carriers, each a tree given as parent picks (node i hangs under one of the nodes before it). */
const arbitraryForest = fc.record({
  carriers: fc.array(
    fc.record({
      // Empty: a well-formed tree of ids. Otherwise the carrier's path starts with it.
      prefix: fc.oneof(fc.constant(''), fc.string({ unit: META, minLength: 1, maxLength: 3 })),
      parents: fc.array(fc.nat(), { maxLength: 5 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  probes: fc.array(fc.string({ unit: META, maxLength: 4 }), { maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
});

type TForest = typeof arbitraryForest extends fc.Arbitrary<infer T> ? T : never;

/** Replaces the whole account table with the forest; returns every account. */
async function build(forest: TForest): Promise<{ accounts: TAccount[]; wellFormed: TAccount[] }> {
  const em = database.orm.em.fork();
  return arrange(em, async () => {
    await em.execute('delete from account');
    const accounts: TAccount[] = [];
    const wellFormed: TAccount[] = [];
    for (const [c, spec] of forest.carriers.entries()) {
      const carrierId = crypto.randomUUID();
      const tree = [
        em.create(Account, {
          id: carrierId,
          path: `${spec.prefix}${carrierId}/`,
          depth: 0,
          kind: 'carrier',
          name: `Carrier ${c}`,
          currency: 'EUR',
        }),
      ];
      await em.flush();
      for (const [i, pick] of spec.parents.entries()) {
        const parent = tree[pick % tree.length]!;
        const id = crypto.randomUUID();
        tree.push(
          em.create(Account, {
            id,
            parent,
            path: `${parent.path}${id}/`,
            depth: parent.depth + 1,
            kind: 'reseller',
            name: `Account ${c}.${i}`,
            currency: 'EUR',
          }),
        );
        // One at a time: a parent in the same batch is inserted first with no parent.
        await em.flush();
      }
      accounts.push(...tree);
      if (spec.prefix === '') wellFormed.push(...tree);
    }
    await em.flush();
    return { accounts, wellFormed };
  });
}

/** The accounts each SQL fragment selects, read in one pass over the table. */
async function idsWhere(
  em: EntityManager,
  fragments: Record<string, TSqlFragment>,
): Promise<Record<string, string[]>> {
  const names = Object.keys(fragments);
  const rows = await em.execute<Record<string, unknown>[]>(
    `select id, ${names.map((name) => `(${fragments[name]!.sql}) as "${name}"`).join(', ')}
       from account`,
    names.flatMap((name) => fragments[name]!.params),
  );
  return Object.fromEntries(
    names.map((name) => [
      name,
      rows
        .filter((row) => row[name] === true)
        .map((row) => String(row.id))
        .sort(),
    ]),
  );
}

async function idsFound(em: EntityManager, where: FilterQuery<TAccount>): Promise<string[]> {
  const found = await em.find(Account, where, { fields: ['id'] });
  return found.map((account) => account.id).sort();
}

const idsOf = (accounts: TAccount[]) => accounts.map((account) => account.id).sort();

describe('the subtree rule in SQL and in TypeScript', () => {
  it(`agree over ${RUNS} random forests and probes`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryForest, async (forest) => {
        runs++;
        const { accounts, wellFormed } = await build(forest);
        const em = database.orm.em.fork();
        const paths = accounts.map((account) => account.path);
        // Real paths, pieces of them (a cut mid-id or mid-prefix), and loose strings.
        const probes = [
          ...paths,
          ...forest.cuts.map((cut, i) => paths[i % paths.length]!.slice(0, cut % 40)),
          ...forest.probes,
        ];
        for (const probe of probes) {
          const within = idsOf(accounts.filter((a) => isWithin(probe, a.path)));
          const below = idsOf(accounts.filter((a) => isBelow(probe, a.path)));
          const holds = idsOf(accounts.filter((a) => isWithin(a.path, probe)));
          const sql = await idsWhere(em, {
            within: withinSql('path', probe),
            withinOf: withinSql('path', { sql: '?::text', params: [probe] }),
            below: belowSql('path', probe),
            holds: holdsSql('path', probe),
          });
          expect(sql, `probe ${probe}`).toEqual({ within, withinOf: within, below, holds });
          expect(await idsFound(em, { path: withinFilter(probe) })).toEqual(within);
          expect(await idsFound(em, { path: belowFilter(probe) })).toEqual(below);
        }
        // Read the other way round by ids, which only a well-formed path consists of.
        for (const account of wellFormed) {
          const holding = idsOf(accounts.filter((a) => isWithin(a.path, account.path)));
          const above = idsOf(accounts.filter((a) => isBelow(a.path, account.path)));
          expect(await idsFound(em, holdingFilter(account.path))).toEqual(holding);
          expect(await idsFound(em, aboveFilter(account.path))).toEqual(above);
          const onPath = await idsWhere(em, {
            onPath: onPathSql('id', account.path),
            onPathOf: onPathSql('id', { sql: '?::text', params: [account.path] }),
          });
          expect(onPath, `on the path ${account.path}`).toEqual({
            onPath: holding,
            onPathOf: holding,
          });
          // Its carrier is the root it lies under.
          const root = accounts.find((a) => a.path === `${carrierIdOf(account.path)}/`);
          expect(root && isWithin(root.path, account.path)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    expect(runs).toBe(RUNS);
  });

  it('escapes `_`, which LIKE reads as any character', async () => {
    // The fixture the property relies on: PostgreSQL's LIKE does treat `_` as a wildcard.
    const rows = await database.orm.em
      .fork()
      .execute<{ raw: boolean; escaped: boolean }[]>(
        `select 'ab/' like 'a_/%' as raw, ${withinSql(`'ab/'`, 'a_/').sql} as escaped`,
        withinSql(`'ab/'`, 'a_/').params,
      );
    expect(rows[0]).toEqual({ raw: true, escaped: false });
  });
});
