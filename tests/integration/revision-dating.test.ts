import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { TLookup } from '@/lib/shared/schemas/rates';
import type { TUsageRecordDto } from '@/lib/shared/schemas/usage';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, ok, type TApiClient } from '../fixtures/api-client';
import { waitForLockWaiters } from '../fixtures/lock-waiters';

/**
 * A live-now rate revision and the rating batches around it (revisions.ts `settleDates`,
 * rate-batch.ts `assertPlanUnchanged`): whatever commits while a rate write runs, a
 * call is charged what the trace prices it at, at its instant, afterwards.
 *
 * Carrier C, provider card P (44 at 0.0100 a minute, billed by the second), S derived
 * from it (+20 %), held by the carrier's customer K. A 60 s call costs 0.0100 on P and
 * 0.0120 on S; after P's new deck, 0.0200 and 0.0240.
 */
const ADMIN = { email: 'admin@revision-dating.test', password: 'revision-dating-pass' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
let admin: TApiClient;
const ids = {} as Record<'P' | 'S' | 'K', string>;

function deck(rate: string) {
  return {
    rates: [{ prefix: '44', destination: 'UK', rate, initialIncrement: 1, increment: 1 }],
  };
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'provider' }))).id;
  await ok(admin.put(`/cards/${ids.P}/rates`, deck('0.0100')), 200);
  ids.S = (await ok(admin.post(`/cards/${ids.P}/derive`, { name: 'S', markupPercent: '20' }))).id;
  ids.K = (await ok(admin.post('/customers', { name: 'K', creditLimit: '100' }))).id;
  await ok(admin.post('/assignments', { cardId: ids.S, accountId: ids.K }));
});

/** The amount at each card of K's chain for a 60 s call to 44…, at `at`. */
async function traced(at: string): Promise<Record<string, string | null>> {
  const answer = await admin.get(
    `/rates/lookup?accountId=${ids.K}&number=4420123&seconds=60&at=${encodeURIComponent(at)}`,
  );
  expect(answer.status).toBe(200);
  return Object.fromEntries(
    (answer.body as TLookup).levels.map((level) => [level.cardId, level.amount]),
  );
}

function call(cdr: string, startedAt: string) {
  return { id: cdr, accountId: ids.K, number: '4420123', startedAt, seconds: 60 };
}

/** What the call `cdr` was charged at each card, as `GET /usage` lists it. */
async function charged(cdr: string): Promise<Record<string, string>> {
  const items = (await admin.get('/usage?limit=100')).body.items as TUsageRecordDto[];
  const record = items.find((item) => item.cdrId === cdr)!;
  expect([record.status, record.reason]).toEqual(['rated', null]);
  return Object.fromEntries(record.levels.map((level) => [level.cardId, level.amount]));
}

async function liveAtOf(cardId: string, number: number): Promise<string> {
  const page = await admin.get(`/cards/${cardId}/revisions`);
  expect(page.status).toBe(200);
  return (page.body.items as { number: number; liveAt: string }[]).find(
    (revision) => revision.number === number,
  )!.liveAt;
}

describe('a live-now revision and the batches rated while it is written', () => {
  // The embedded database has one connection: a held lock would hold every request there.
  // Under CI the suite always runs on a PostgreSQL server.
  const embedded = inject('testDatabase').kind === 'pglite';
  if (embedded) console.log('skipped on PGlite: one connection serialises the transactions');

  it.skipIf(embedded)('does not cover the calls of a batch that committed before it', async () => {
    // P's row held: the write's transaction has begun and waits for the card's lock
    // while a batch with a call from this moment is rated and commits.
    let write!: Promise<{ status: number; body: { revision: { number: number; liveAt: string } } }>;
    let startedAt = '';
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from card where id = ? for share', [ids.P]);
      write = admin.put(`/cards/${ids.P}/rates`, deck('0.0200'));
      await waitForLockWaiters(suite.orm, 1);
      startedAt = new Date().toISOString();
      await ok(admin.post('/usage', { records: [call('during-write', startedAt)] }), 200);
    });
    const written = await write;
    expect(written.status).toBe(200);

    const billed = await charged('during-write');
    expect(billed).toEqual({ [ids.S]: '0.012000', [ids.P]: '0.010000' });
    // Dated after that batch: the trace at the call's instant prices what was charged.
    expect(await traced(startedAt)).toEqual({ [ids.S]: '0.0120', [ids.P]: '0.0100' });
    expect(Date.parse(written.body.revision.liveAt)).toBeGreaterThan(Date.parse(startedAt));
    // The answer dates the revision as its card's list does.
    expect(written.body.revision.liveAt).toBe(await liveAtOf(ids.P, written.body.revision.number));
    // And calls from now on at the new deck.
    const now = new Date().toISOString();
    expect(await traced(now)).toEqual({ [ids.S]: '0.0240', [ids.P]: '0.0200' });
    await ok(admin.post('/usage', { records: [call('after-write', now)] }), 200);
    expect(await charged('after-write')).toEqual({ [ids.S]: '0.024000', [ids.P]: '0.020000' });
  });

  it.skipIf(embedded)(
    'prices a batch that read the revisions before it by it, for the calls it covers',
    async () => {
      // A call a minute ahead (within the switch's clock allowance). The batch reads its
      // plan, then queues on K's row while P's next deck is written and committed: the
      // revision, dated before the call, must price it.
      const startedAt = new Date(Date.now() + 60_000).toISOString();
      let batch!: Promise<{ status: number }>;
      await suite.orm.em.fork().transactional(async (tx) => {
        await tx.execute('select 1 from account where id = ? for no key update', [ids.K]);
        batch = admin.post('/usage', { records: [call('across-write', startedAt)] });
        await waitForLockWaiters(suite.orm, 1);
        await ok(admin.put(`/cards/${ids.P}/rates`, deck('0.0300')), 200);
      });
      expect((await batch).status).toBe(200);
      expect(await traced(startedAt)).toEqual({ [ids.S]: '0.0360', [ids.P]: '0.0300' });
      expect(await charged('across-write')).toEqual({ [ids.S]: '0.036000', [ids.P]: '0.030000' });
    },
  );

  it.skipIf(embedded)(
    'recomputes a card of two parents from the set another write dated while it waited',
    async () => {
      // M follows P1 (33…) and P2 (49…). W1 writes P1 and queues on M's row (held);
      // W2 writes P2, begun before W1 commits, and queues behind it. W2's recompute of M
      // must read P1's set as W1 left it, though W1's revision is dated after W2 began.
      const made = async (name: string, prefix: string) => {
        const id = (await ok(admin.post('/cards', { name, currency: 'EUR', kind: 'provider' })))
          .id as string;
        await ok(
          admin.put(`/cards/${id}/rates`, {
            rates: [
              { prefix, destination: name, rate: '0.0100', initialIncrement: 1, increment: 1 },
            ],
          }),
          200,
        );
        return id;
      };
      const p1 = await made('P1', '33');
      const p2 = await made('P2', '49');
      const m = (
        await ok(
          admin.post(`/cards/${p1}/derive`, {
            name: 'M',
            markupPercent: '0',
            moreParents: [p2],
            compaction: 'lowest',
          }),
        )
      ).id as string;
      let writes!: Promise<{ status: number }[]>;
      await suite.orm.em.fork().transactional(async (tx) => {
        await tx.execute('select 1 from card where id = ? for share', [m]);
        const first = admin.put(`/cards/${p1}/rates`, {
          rates: [
            { prefix: '33', destination: 'FR', rate: '0.0200', initialIncrement: 1, increment: 1 },
          ],
        });
        await waitForLockWaiters(suite.orm, 1);
        const second = admin.put(`/cards/${p2}/rates`, {
          rates: [
            { prefix: '49', destination: 'DE', rate: '0.0300', initialIncrement: 1, increment: 1 },
          ],
        });
        await waitForLockWaiters(suite.orm, 2);
        writes = Promise.all([first, second]);
      });
      expect((await writes).map((written) => written.status)).toEqual([200, 200]);
      const rates = (await admin.get(`/cards/${m}/rates?limit=10`)).body.items as {
        prefix: string;
        rate: string;
      }[];
      expect(Object.fromEntries(rates.map((row) => [row.prefix, row.rate]))).toEqual({
        '33': '0.0200',
        '49': '0.0300',
      });
    },
  );

  it.skipIf(embedded)('refuses a scheduled revision whose date came while it waited', async () => {
    const before = (await admin.get(`/cards/${ids.P}/revisions`)).body.items.length as number;
    type TAnswer = { status: number; body: { error?: { fields?: Record<string, string> } } };
    let write!: Promise<TAnswer>;
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1 from card where id = ? for share', [ids.P]);
      // A date a moment ahead; a write so slow to arrive that its date passed before it
      // reached the card is refused at once, and sent again with more room.
      for (let room = 2_500; ; room *= 2) {
        const liveAt = new Date(Date.now() + room).toISOString();
        write = admin.put(`/cards/${ids.P}/rates`, { ...deck('0.0500'), liveAt });
        const waiting = waitForLockWaiters(suite.orm, 1).then(() => 'waiting' as const);
        waiting.catch(() => {});
        const first = await Promise.race([write.then(() => 'answered' as const), waiting]);
        if (first === 'waiting') {
          // The date passes while the write waits for the card.
          await new Promise((resolve) =>
            setTimeout(resolve, Date.parse(liveAt) - Date.now() + 200),
          );
          break;
        }
        if (room > 20_000) throw new Error('the write never reached the card');
      }
    });
    const refused = await write;
    expect(refused.status).toBe(400);
    expect(refused.body.error?.fields).toHaveProperty(['liveAt']);
    expect((await admin.get(`/cards/${ids.P}/revisions`)).body.items).toHaveLength(before);
  });
});
