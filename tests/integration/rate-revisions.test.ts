import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { applyDueRevisions, RevisionTimer } from '@/lib/server/services/rates/apply-revisions';
import { holdRevisionTimers } from '../fixtures/revision-timer';
import { actorByEmail, listenAs } from '../fixtures/cookie-listener';
import { exportRates } from '@/lib/server/services/rates/export-rates';
import { withProcessClockOff } from '../fixtures/process-clock';

/**
 * Rate-card revisions (issue 16 §2) over the real API, sockets and PostgreSQL: a set
 * dated later is scheduled (derived cards in step, at the same instant), diffed against
 * the one before it, priced at an instant, refused when dated in the past (by the API
 * and by the database itself), cancelled, applied by the server at its date, and rolled
 * back.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'revisions-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
// The embedded database runs in this process and reads its clock: a process clock apart
// from the database's cannot be made there. Under CI the suite always runs on PostgreSQL.
const embedded = inject('testDatabase').kind === 'pglite';
if (embedded) console.log('one skipped on PGlite: its clock is this process’s');

let admin: TApiClient;
let outsider: TApiClient;
let carrierId: string;
const card = {} as Record<'P' | 'D', string>;

const FIRST = [
  { prefix: '44', destination: 'UK', rate: '0.0200' },
  { prefix: '441', destination: 'UK geographic', rate: '0.0400' },
  { prefix: '33', destination: 'France', rate: '0.0123' },
  { prefix: '49', destination: 'Germany', rate: '0.0300' },
];
/** 44 up, 33 down, 441 gone, 1 new, 49 the same rate with a fee: one of each. */
const SECOND = [
  { prefix: '1', destination: 'NANP', rate: '0.0050' },
  { prefix: '33', destination: 'France', rate: '0.0100' },
  { prefix: '44', destination: 'UK', rate: '0.0250' },
  { prefix: '49', destination: 'Germany', rate: '0.0300', connectionFee: '0.0100' },
];

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

async function until(check: () => boolean, what: string, checkAsync?: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(checkAsync ? await checkAsync() : check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rates(cardId: string) {
  const page = await admin.get(`/cards/${cardId}/rates?limit=500`);
  expect(page.status).toBe(200);
  return Object.fromEntries(
    (page.body.items as { prefix: string; rate: string }[]).map((row) => [row.prefix, row.rate]),
  );
}

async function revisions(cardId: string) {
  const page = await admin.get(`/cards/${cardId}/revisions`);
  expect(page.status).toBe(200);
  return page.body.items as { number: number; state: string; liveAt: string; source: string }[];
}

function trace(at?: string) {
  const when = at ? `&at=${encodeURIComponent(at)}` : '';
  return admin.get(`/rates/lookup?accountId=${carrierId}&cardId=${card.D}&number=4420${when}`);
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const reseller = (await admin.post('/resellers', { name: 'R', email: 'r@x.test' })).body.id;
  await admin.post('/users', {
    email: 'ops@r.test',
    password: PASSWORD,
    accountId: reseller,
    groupId: group.id,
  });
  outsider = await apiClient(suite.server.url, 'ops@r.test', PASSWORD);
  card.P = (await admin.post('/cards', { name: 'Buy', currency: 'EUR', kind: 'provider' })).body.id;
  expect((await admin.put(`/cards/${card.P}/rates`, { rates: FIRST })).status).toBe(200);
  const derived = await admin.post(`/cards/${card.P}/derive`, {
    name: 'Sell',
    markupPercent: '50',
  });
  expect(derived.status).toBe(201);
  card.D = derived.body.id;
});

/** A provider card with one row that gives `minNoticeHours` (48) of increases. */
async function noticedCard(name: string, row: Record<string, unknown>): Promise<string> {
  const made = await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' });
  const id = made.body.id as string;
  expect((await admin.put(`/cards/${id}/rates`, { rates: [row] })).status).toBe(200);
  const version = (await admin.get(`/cards/${id}`)).body.version as number;
  expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
  return id;
}

describe('rate revisions', () => {
  let liveAt: string;

  it('schedules a revision: the live set stays, derived cards get one at the same instant', async () => {
    liveAt = inHours(2);
    const put = await admin.put(`/cards/${card.P}/rates`, { rates: SECOND, liveAt });
    expect(put.status).toBe(200);
    expect(put.body.revision).toEqual({
      number: 2,
      liveAt,
      state: 'scheduled',
      counts: { added: 1, removed: 1, increased: 1, decreased: 1, changed: 1, unchanged: 0 },
    });
    expect(await rates(card.P)).toEqual({
      '33': '0.0123',
      '44': '0.0200',
      '441': '0.0400',
      '49': '0.0300',
    });
    expect((await revisions(card.P)).map((row) => [row.number, row.state])).toEqual([
      [2, 'scheduled'],
      [1, 'live'],
    ]);
    const derived = await revisions(card.D);
    expect(derived.map((row) => [row.number, row.state, row.liveAt, row.source])).toEqual([
      [2, 'scheduled', liveAt, 'parent'],
      [1, 'live', derived[1]!.liveAt, 'parent'],
    ]);
  });

  it('diffs a revision against the one before it, counted and paged', async () => {
    const all = await admin.get(`/cards/${card.P}/revisions/2/diff`);
    expect(all.status).toBe(200);
    expect(all.body.counts).toEqual({
      added: 1,
      removed: 1,
      increased: 1,
      decreased: 1,
      changed: 1,
      unchanged: 0,
    });
    expect(
      all.body.items.map((row: { prefix: string; change: string }) => [row.prefix, row.change]),
    ).toEqual([
      ['1', 'new'],
      ['33', 'decreased'],
      ['44', 'increased'],
      ['441', 'removed'],
      ['49', 'changed'],
    ]);
    const up = await admin.get(`/cards/${card.P}/revisions/2/diff?change=increased`);
    expect(up.body.items).toEqual([
      {
        prefix: '44',
        effectiveFrom: null,
        change: 'increased',
        before: expect.objectContaining({ rate: '0.0200', destination: 'UK' }),
        after: expect.objectContaining({ rate: '0.0250', destination: 'UK' }),
      },
    ]);
    const first = await admin.get(`/cards/${card.P}/revisions/2/diff?limit=2`);
    expect(first.body.items).toHaveLength(2);
    const next = await admin.get(
      `/cards/${card.P}/revisions/2/diff?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(next.body.items.map((row: { prefix: string }) => row.prefix)).toEqual(['44', '441']);
    // The derived card: every marked-up row moves with its parent's.
    const derived = await admin.get(`/cards/${card.D}/revisions/2/diff?change=increased`);
    expect(derived.body.items).toEqual([
      expect.objectContaining({
        prefix: '44',
        before: expect.objectContaining({ rate: '0.0300' }),
        after: expect.objectContaining({ rate: '0.0375' }),
      }),
    ]);
    const bad = await admin.get(`/cards/${card.P}/revisions/2/diff?change=sideways`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('change');
    expect((await admin.get(`/cards/${card.P}/revisions/9/diff`)).status).toBe(404);
    const huge = await admin.get(`/cards/${card.P}/revisions/2/diff?limit=5001`);
    expect(huge.status).toBe(400);
    expect(huge.body.error.fields).toHaveProperty('limit');
  });

  it('prices at an instant with the revisions live then, at every level', async () => {
    const now = await trace();
    expect(now.body.levels.map((level: { rate: string }) => level.rate)).toEqual([
      '0.0200',
      '0.0300',
    ]);
    const later = await trace(new Date(Date.parse(liveAt) + 1_000).toISOString());
    expect(later.status).toBe(200);
    expect(later.body.levels.map((level: { rate: string }) => level.rate)).toEqual([
      '0.0250',
      '0.0375',
    ]);
    const before = await trace(new Date(Date.now() + 60_000).toISOString());
    expect(before.body.levels.map((level: { rate: string }) => level.rate)).toEqual([
      '0.0200',
      '0.0300',
    ]);
  });

  it('refuses past dates, retroactive rows and going live before a scheduled revision', async () => {
    const past = await admin.put(`/cards/${card.P}/rates`, {
      rates: FIRST,
      liveAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(past.status).toBe(400);
    expect(past.body.error.fields).toHaveProperty('liveAt');
    const early = await admin.put(`/cards/${card.P}/rates`, { rates: FIRST, liveAt: inHours(1) });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('revision_scheduled');
    expect((await admin.put(`/cards/${card.P}/rates`, { rates: FIRST })).status).toBe(409);
    const retroactive = await admin.put(`/cards/${card.P}/rates`, {
      rates: [
        ...SECOND,
        { prefix: '7', destination: 'RU', rate: '0.1000', effectiveFrom: '2020-01-01T00:00:00Z' },
      ],
      liveAt: inHours(3),
    });
    expect(retroactive.status).toBe(400);
    expect(retroactive.body.error.fields.effectiveFrom).toMatch(/prefix 7/);
    expect((await revisions(card.P)).map((row) => row.number)).toEqual([2, 1]);
  });

  it('refuses a row dated finer than the millisecond, which rating could not tell apart', async () => {
    const made = await admin.post('/cards', {
      name: 'Fine dates',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(made.status).toBe(201);
    const at = (micros: string) => `2030-01-04T00:00:00.${micros}Z`;
    const refused = await admin.put(`/cards/${made.body.id}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0100', effectiveFrom: at('000200') },
        { prefix: '44', destination: 'UK', rate: '0.0200', effectiveFrom: at('000700') },
      ],
    });
    expect(refused.status).toBe(400);
    expect(Object.keys(refused.body.error.fields).sort()).toEqual([
      'rates.0.effectiveFrom',
      'rates.1.effectiveFrom',
    ]);
    const taken = await admin.put(`/cards/${made.body.id}/rates`, {
      rates: [{ prefix: '44', destination: 'UK', rate: '0.0100', effectiveFrom: at('001') }],
    });
    expect(taken.status).toBe(200);
  });

  it('refuses them in PostgreSQL too, whoever writes', async () => {
    const em = suite.orm.em.fork();
    await expect(
      em.execute(
        `insert into rate_revision (card_id, number, live_at, source) values (?, 99, now() - interval '1 hour', 'put')`,
        [card.P],
      ),
    ).rejects.toThrow(/rate_revision_live_at_not_past|in the past/);
    await expect(
      em.transactional(async (tx) => {
        await tx.execute(
          `insert into rate_revision (card_id, number, live_at, source) values (?, 98, now() + interval '1 day', 'import')`,
          [card.P],
        );
        await tx.execute(
          `insert into rate_history (card_id, prefix, effective_from, from_rev, rate, connection_fee,
             initial_increment, increment, grace_seconds, blocked, overridden, losing, destination)
           values (?, '7', now() - interval '1 day', 98, 0.1, 0, 60, 60, 0, false, false, false, 'RU')`,
          [card.P],
        );
      }),
    ).rejects.toThrow(/cannot take effect in the past/);
  });

  it('cancels a scheduled revision with its derived ones; only the latest', async () => {
    const third = await admin.put(`/cards/${card.P}/rates`, { rates: FIRST, liveAt: inHours(4) });
    expect(third.body.revision).toMatchObject({ number: 3, state: 'scheduled' });
    const notLatest = await admin.del(`/cards/${card.P}/revisions/2`);
    expect(notLatest.status).toBe(409);
    expect(notLatest.body.error.code).toBe('revision_not_latest');
    expect((await admin.del(`/cards/${card.P}/revisions/3`)).status).toBe(204);
    expect((await revisions(card.P)).map((row) => [row.number, row.state])).toEqual([
      [3, 'cancelled'],
      [2, 'scheduled'],
      [1, 'live'],
    ]);
    expect((await revisions(card.D))[0]).toMatchObject({ number: 3, state: 'cancelled' });
    // History reads as if it had never been written: 2 still prices as scheduled.
    const later = await trace(new Date(Date.parse(inHours(5))).toISOString());
    expect(later.body.levels.map((level: { rate: string }) => level.rate)).toEqual([
      '0.0250',
      '0.0375',
    ]);
    expect((await admin.del(`/cards/${card.P}/revisions/1`)).status).toBe(409);
    // A derived card's revisions follow its parent's: not cancelled on their own.
    expect((await admin.del(`/cards/${card.D}/revisions/2`)).status).toBe(409);
  });

  it('applies a revision at its date, live to panels, derived cards in step', async () => {
    // The two-hour one is withdrawn so a near one can go first.
    expect((await admin.del(`/cards/${card.P}/revisions/2`)).status).toBe(204);
    const { socket, received } = await listen(admin);
    try {
      const soon = new Date(Date.now() + 1_500).toISOString();
      const put = await admin.put(`/cards/${card.P}/rates`, { rates: SECOND, liveAt: soon });
      expect(put.body.revision).toMatchObject({ number: 4, state: 'scheduled' });
      await until(
        () => received.some((e) => e.type === 'cards.revision_scheduled' && e.id === card.D),
        'the scheduled notice',
      );
      expect(await rates(card.P)).toMatchObject({ '44': '0.0200' });
      await until(
        () =>
          [card.P, card.D].every((id) =>
            received.some((e) => e.type === 'cards.rates_changed' && e.id === id),
          ),
        'the revision going live',
      );
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(soon));
      expect(await rates(card.P)).toEqual({
        '1': '0.0050',
        '33': '0.0100',
        '44': '0.0250',
        '49': '0.0300',
      });
      expect(await rates(card.D)).toMatchObject({ '44': '0.0375' });
      expect((await revisions(card.P)).map((row) => [row.number, row.state])).toEqual([
        [4, 'live'],
        [3, 'cancelled'],
        [2, 'cancelled'],
        [1, 'superseded'],
      ]);
      expect((await revisions(card.D))[0]).toMatchObject({ number: 4, state: 'live' });
      const card_ = (await admin.get(`/cards/${card.P}`)).body;
      expect(card_.rateCount).toBe(4);
    } finally {
      socket.close();
    }
  });

  it('rolls back by scheduling a copy of an earlier revision', async () => {
    const rolled = await admin.post(`/cards/${card.P}/revisions/1/rollback`, {});
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({
      number: 5,
      state: 'live',
      source: 'rollback',
      basedOn: 1,
      previous: 4,
      counts: { added: 1, removed: 1, increased: 1, decreased: 1, changed: 1, unchanged: 0 },
    });
    expect(await rates(card.P)).toEqual({
      '33': '0.0123',
      '44': '0.0200',
      '441': '0.0400',
      '49': '0.0300',
    });
    expect(await rates(card.D)).toMatchObject({ '44': '0.0300' });
    const later = await admin.post(`/cards/${card.P}/revisions/4/rollback`, {
      liveAt: inHours(24),
    });
    expect(later.body).toMatchObject({ number: 6, state: 'scheduled', basedOn: 4 });
    const cancelled = await admin.post(`/cards/${card.P}/revisions/3/rollback`, {});
    expect(cancelled.status).toBe(409);
    expect((await admin.post(`/cards/${card.D}/revisions/1/rollback`, {})).status).toBe(409);
    expect((await admin.del(`/cards/${card.P}/revisions/6`)).status).toBe(204);
  });

  it("never puts rates live finer than the card's decimals: a rollback or a scheduled revision", async () => {
    const made = await admin.post('/cards', {
      name: 'Precise',
      currency: 'EUR',
      kind: 'provider',
      decimals: 6,
    });
    const id = made.body.id as string;
    const row = (rate: string) => ({ prefix: '44', destination: 'UK', rate });
    expect((await admin.put(`/cards/${id}/rates`, { rates: [row('0.018049')] })).status).toBe(200);
    expect((await admin.put(`/cards/${id}/rates`, { rates: [row('0.018')] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    const coarse = await admin.patch(`/cards/${id}`, { version, decimals: 4 });
    expect(coarse.status).toBe(200);
    // Revision 1 holds 0.018049: live on a 4-decimal card it would bill digits its lists
    // show as 0.0180.
    const rolled = await admin.post(`/cards/${id}/revisions/1/rollback`, {});
    expect(rolled).toMatchObject({ status: 409, body: { error: { code: 'precision_loss' } } });
    expect(await rates(id)).toEqual({ '44': '0.0180' });
    // Revision 3: revision 2's rows at 4 decimals (a change of precision is a revision).
    expect((await revisions(id)).map((revision) => revision.number)).toEqual([3, 2, 1]);

    // Back at 6 decimals, a revision scheduled at 0.012345 keeps the card from coming down.
    const fine = await admin.patch(`/cards/${id}`, { version: coarse.body.version, decimals: 6 });
    expect(fine.status).toBe(200);
    const scheduled = await admin.put(`/cards/${id}/rates`, {
      rates: [row('0.012345')],
      liveAt: inHours(48),
    });
    expect(scheduled.status).toBe(200);
    const current = (await admin.get(`/cards/${id}`)).body.version as number;
    const blocked = await admin.patch(`/cards/${id}`, { version: current, decimals: 4 });
    expect(blocked).toMatchObject({ status: 409, body: { error: { code: 'precision_loss' } } });
    expect((await admin.get(`/cards/${id}`)).body.decimals).toBe(6);
  });

  it('refuses increases with less notice than the card asks for', async () => {
    const version = (await admin.get(`/cards/${card.P}`)).body.version;
    const patched = await admin.patch(`/cards/${card.P}`, { version, minNoticeHours: 48 });
    expect(patched.status).toBe(200);
    expect(patched.body.minNoticeHours).toBe(48);
    const up = [{ ...FIRST[0]!, rate: '0.0300' }, ...FIRST.slice(1)];
    const short = await admin.put(`/cards/${card.P}/rates`, { rates: up, liveAt: inHours(24) });
    expect(short.status).toBe(409);
    expect(short.body.error.code).toBe('notice_too_short');
    const enough = await admin.put(`/cards/${card.P}/rates`, { rates: up, liveAt: inHours(49) });
    expect(enough.status).toBe(200);
    expect(
      (await admin.del(`/cards/${card.P}/revisions/${enough.body.revision.number}`)).status,
    ).toBe(204);
    // Decreases need no notice.
    const down = [{ ...FIRST[0]!, rate: '0.0100' }, ...FIRST.slice(1)];
    expect((await admin.put(`/cards/${card.P}/rates`, { rates: down })).status).toBe(200);
  });

  it('counts notice by the database’s clock, not a process clock running behind', async () => {
    const made = await admin.post('/cards', { name: 'Notice', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    const row = (rate: string) => ({ prefix: '44', destination: 'UK', rate });
    expect((await admin.put(`/cards/${id}/rates`, { rates: [row('0.0100')] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
    // 47.5 hours ahead: short of 48, whatever this process's clock (an hour behind) says.
    const liveAt = inHours(47.5);
    const short = await withProcessClockOff(-3_600_000, () =>
      admin.put(`/cards/${id}/rates`, { rates: [row('0.0200')], liveAt }),
    );
    expect(short.status).toBe(409);
    expect(short.body.error.code).toBe('notice_too_short');
  });

  it('judges a liveAt past by the database’s clock, not a process clock running ahead', async () => {
    const made = await admin.post('/cards', { name: 'Ahead', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    const row = (rate: string) => ({ prefix: '44', destination: 'UK', rate });
    expect((await admin.put(`/cards/${id}/rates`, { rates: [row('0.0100')] })).status).toBe(200);
    // Five minutes ahead by the database, five behind by a process ten minutes ahead:
    // scheduled, not "in the past". One truly past is still refused, naming the field.
    const liveAt = new Date(Date.now() + 5 * 60_000).toISOString();
    const ahead = await withProcessClockOff(10 * 60_000, () =>
      admin.put(`/cards/${id}/rates`, { rates: [row('0.0050')], liveAt }),
    );
    expect(ahead.status, JSON.stringify(ahead.body)).toBe(200);
    const past = await admin.put(`/cards/${id}/rates`, {
      rates: [row('0.0040')],
      liveAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(past.status).toBe(400);
    expect(past.body.error.fields).toEqual({ liveAt: 'is in the past' });
  });

  it('holds every term that prices a call higher, and dated rows, to the notice', async () => {
    const row = { prefix: '44', destination: 'UK', rate: '0.0100' };
    const id = await noticedCard('Terms', row);
    // The same rate with a fee, a longer first increment, or a dearer row dated in an
    // hour: each prices calls higher, and live now gives no notice.
    for (const rates of [
      [{ ...row, connectionFee: '0.05' }],
      [{ ...row, initialIncrement: 120 }],
      [{ ...row, rate: '0.0090', connectionFee: '0.01' }],
      [row, { ...row, rate: '0.0500', effectiveFrom: inHours(1) }],
    ]) {
      const short = await admin.put(`/cards/${id}/rates`, { rates });
      expect([JSON.stringify(rates), short.status]).toEqual([JSON.stringify(rates), 409]);
      expect(short.body.error).toMatchObject({ code: 'notice_too_short', raised: 1 });
    }
    // A dearer row dated past the notice gives it, though its revision is live now; a
    // cheaper one needs none.
    const dated = [row, { ...row, rate: '0.0500', effectiveFrom: inHours(49) }];
    expect((await admin.put(`/cards/${id}/rates`, { rates: dated })).status).toBe(200);
    const cheaper = [row, { ...row, rate: '0.0050', effectiveFrom: inHours(49) }];
    expect((await admin.put(`/cards/${id}/rates`, { rates: cheaper })).status).toBe(200);

    // A derived card's own markup raised on a card that gives notice: refused too.
    const derived = await admin.post(`/cards/${id}/derive`, {
      name: 'Terms retail',
      markupPercent: '10',
    });
    expect(derived.status).toBe(201);
    const noticed = await admin.patch(`/cards/${derived.body.id}`, {
      version: derived.body.version,
      minNoticeHours: 24,
    });
    expect(noticed.status).toBe(200);
    const raised = await admin.patch(`/cards/${derived.body.id}`, {
      version: noticed.body.version,
      markupPercent: '20',
    });
    expect(raised.status).toBe(409);
    expect(raised.body.error.code).toBe('notice_too_short');
    const lowered = await admin.patch(`/cards/${derived.body.id}`, {
      version: noticed.body.version,
      markupPercent: '5',
    });
    expect(lowered.status).toBe(200);
  });

  it('binds an owner’s own writes to its notice, never a write of an account above it', async () => {
    // A reseller's card derived from the carrier's card it holds, with a day's notice.
    const row = { prefix: '44', destination: 'UK', rate: '0.0100' };
    const made = await admin.post('/cards', {
      name: 'Wholesale',
      currency: 'EUR',
      kind: 'customer',
    });
    const X = made.body.id as string;
    expect((await admin.put(`/cards/${X}/rates`, { rates: [row] })).status).toBe(200);
    const r = (await outsider.get('/me')).body.account.id as string;
    expect((await admin.post('/assignments', { cardId: X, accountId: r })).status).toBe(201);
    const derived = await outsider.post(`/cards/${X}/derive`, {
      name: 'Reseller retail',
      markupPercent: '10',
    });
    expect(derived.status).toBe(201);
    const S = derived.body.id as string;
    const noticed = await outsider.patch(`/cards/${S}`, {
      version: derived.body.version,
      minNoticeHours: 24,
    });
    expect(noticed.status).toBe(200);

    // The carrier raises its card now: the reseller's notice does not hold it back, and
    // the reseller's card follows at once.
    const raise = await admin.put(`/cards/${X}/rates`, { rates: [{ ...row, rate: '0.0200' }] });
    expect(raise.status, JSON.stringify(raise.body)).toBe(200);
    const sold = (await outsider.get(`/cards/${S}/rates`)).body.items;
    expect(sold.map((one: { rate: string }) => one.rate)).toEqual(['0.0220']);

    // The reseller's own raise of its markup still needs the day's notice.
    const own = await outsider.patch(`/cards/${S}`, {
      version: (await outsider.get(`/cards/${S}`)).body.version,
      markupPercent: '20',
    });
    expect(own.status).toBe(409);
    expect(own.body.error.code).toBe('notice_too_short');

    // And the carrier's own card derived from its card binds the carrier's raise.
    const carriers = await admin.post(`/cards/${X}/derive`, {
      name: 'Carrier retail',
      markupPercent: '10',
    });
    expect(
      (
        await admin.patch(`/cards/${carriers.body.id}`, {
          version: carriers.body.version,
          minNoticeHours: 24,
        })
      ).status,
    ).toBe(200);
    const again = await admin.put(`/cards/${X}/rates`, { rates: [{ ...row, rate: '0.0300' }] });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('notice_too_short');
  });

  it('holds increments that bill some call higher to the notice, though no term grows', async () => {
    const row = {
      prefix: '44',
      destination: 'UK',
      rate: '0.0600',
      initialIncrement: 60,
      increment: 60,
    };
    const id = await noticedCard('Increments', row);
    // 30/60 bills a 31 s call 90 s (0.0900, not 0.0600); 45/45 a 50 s call 90 s.
    for (const [initialIncrement, increment] of [
      [30, 60],
      [45, 45],
    ]) {
      const short = await admin.put(`/cards/${id}/rates`, {
        rates: [{ ...row, initialIncrement, increment }],
      });
      const cell = `${initialIncrement}/${increment}`;
      expect([cell, short.status]).toEqual([cell, 409]);
      expect(short.body.error).toMatchObject({ code: 'notice_too_short', raised: 1 });
    }
    // 30/30 bills no call longer than 60/60 did: no notice needed.
    const finer = await admin.put(`/cards/${id}/rates`, {
      rates: [{ ...row, initialIncrement: 30, increment: 30 }],
    });
    expect(finer.status).toBe(200);
  });

  it('compares numbers, not rows: a prefix added or removed moves them to another', async () => {
    const made = await admin.post('/cards', { name: 'Numbers', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0100' };
    const london = { prefix: '4420', destination: 'London', rate: '0.0050' };
    const guernsey = { prefix: '441481', destination: 'Guernsey' };
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk, london] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
    // A dearer prefix under 44 takes numbers 44 priced; London removed gives its to 44;
    // 44 removed gives its to a dearer 4.
    for (const rates of [
      [uk, london, { ...guernsey, rate: '0.5000' }],
      [uk],
      [{ ...uk, prefix: '4', rate: '0.0200' }, london],
    ]) {
      const short = await admin.put(`/cards/${id}/rates`, { rates });
      expect([JSON.stringify(rates), short.status, short.body.error]).toEqual([
        JSON.stringify(rates),
        409,
        expect.objectContaining({ code: 'notice_too_short', raised: 1 }),
      ]);
    }
    // A new route, the dearer prefix dated past the notice, then a cheaper one at once.
    for (const rates of [
      [uk, london, { prefix: '33', destination: 'France', rate: '0.9000' }],
      [uk, london, { ...guernsey, rate: '0.5000', effectiveFrom: inHours(49) }],
      [uk, london, { ...guernsey, rate: '0.0090' }],
    ]) {
      const put = await admin.put(`/cards/${id}/rates`, { rates });
      expect([JSON.stringify(rates), put.status]).toEqual([JSON.stringify(rates), 200]);
    }
  });

  it('compares with what the holders were told a notice ago: a row removed, then dearer', async () => {
    const made = await admin.post('/cards', { name: 'Told', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0100' };
    const france = { prefix: '33', destination: 'France', rate: '0.0200' };
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk, france] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
    // That set was written three days ago: what the holders know.
    await suite.orm.em
      .fork()
      .execute(
        `update rate_revision set created_at = created_at - interval '3 days' where card_id = ?`,
        [id],
      );
    // 44 withdrawn (no raise), then back at ten times its price: refused, as it would
    // have been in one write.
    expect((await admin.put(`/cards/${id}/rates`, { rates: [france] })).status).toBe(200);
    const back = await admin.put(`/cards/${id}/rates`, {
      rates: [france, { ...uk, rate: '0.1000' }],
    });
    expect([back.status, back.body.error]).toEqual([
      409,
      expect.objectContaining({ code: 'notice_too_short', raised: 1 }),
    ]);
    // Back at its old price, or dearer from past the notice: no raise on what they knew.
    expect((await admin.put(`/cards/${id}/rates`, { rates: [france, uk] })).status).toBe(200);
    const dated = [france, uk, { ...uk, rate: '0.1000', effectiveFrom: inHours(49) }];
    expect((await admin.put(`/cards/${id}/rates`, { rates: dated })).status).toBe(200);
    // Forty hours on (its date moved nearer, as time would bring it), that raise, noticed,
    // is kept as it is by a write changing something else: it was held to the notice
    // when it was written, not again by every write until it takes effect.
    const soon = inHours(9);
    await suite.orm.em
      .fork()
      .execute(
        `update rate_history set effective_from = ? where card_id = ? and effective_from is not null`,
        [soon, id],
      );
    const later = [
      { ...france, rate: '0.0150' },
      uk,
      { ...uk, rate: '0.1000', effectiveFrom: soon },
    ];
    expect((await admin.put(`/cards/${id}/rates`, { rates: later })).status).toBe(200);
    // A row brought by this write is still compared with what the holders knew.
    const dearer = [
      { ...france, rate: '0.0300' },
      uk,
      { ...uk, rate: '0.1000', effectiveFrom: soon },
    ];
    expect((await admin.put(`/cards/${id}/rates`, { rates: dearer })).status).toBe(409);
  });

  it('compares numbers with what the holders were told: a cheaper longer prefix blocked, then removed', async () => {
    const uk = { prefix: '44', destination: 'UK', rate: '0.0500' };
    const london = { prefix: '4420', destination: 'London', rate: '0.0100' };
    const id = await noticedCard('Block then remove', uk);
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk, london] })).status).toBe(200);
    await suite.orm.em
      .fork()
      .execute(
        `update rate_revision set created_at = created_at - interval '3 days' where card_id = ?`,
        [id],
      );
    // Removed in one write, London's numbers go to 44's price: a raise.
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk] })).status).toBe(409);
    // Blocked (no raise), then removed: the same raise on what the holders were told.
    expect(
      (await admin.put(`/cards/${id}/rates`, { rates: [uk, { ...london, blocked: true }] })).status,
    ).toBe(200);
    const removed = await admin.put(`/cards/${id}/rates`, { rates: [uk] });
    expect([removed.status, removed.body.error?.code]).toEqual([409, 'notice_too_short']);
    // A write that leaves London's numbers where they are is no raise.
    expect(
      (
        await admin.put(`/cards/${id}/rates`, {
          rates: [
            uk,
            { ...london, blocked: true },
            { prefix: '33', destination: 'F', rate: '0.01' },
          ],
        })
      ).status,
    ).toBe(200);
  });

  it('compares a card younger than its notice with its first set: blocked, then dearer', async () => {
    const made = await admin.post('/cards', { name: 'Young', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0100' };
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 720 })).status).toBe(200);
    expect(
      (await admin.put(`/cards/${id}/rates`, { rates: [{ ...uk, rate: '0.5000' }] })).status,
    ).toBe(409);
    // No revision is 720 hours old: its holders were told its first set, and a block
    // (no raise) then a dearer row is a raise on that, as in one write.
    expect(
      (await admin.put(`/cards/${id}/rates`, { rates: [{ ...uk, blocked: true }] })).status,
    ).toBe(200);
    const reopened = await admin.put(`/cards/${id}/rates`, { rates: [{ ...uk, rate: '0.5000' }] });
    expect([reopened.status, reopened.body.error?.code]).toEqual([409, 'notice_too_short']);
    // Opened again at its first price: none.
    expect((await admin.put(`/cards/${id}/rates`, { rates: [uk] })).status).toBe(200);
  });

  it('holds cancelling a scheduled cut to the notice, as withdrawing a dated one is', async () => {
    const uk = { prefix: '44', destination: 'UK', rate: '0.0200' };
    const cut = { ...uk, rate: '0.0100' };
    // The cut as a dated row: withdrawing it is a raise on what the holders were told.
    const dated = await noticedCard('Cut as a row', uk);
    expect(
      (
        await admin.put(`/cards/${dated}/rates`, {
          rates: [uk, { ...cut, effectiveFrom: inHours(10) }],
        })
      ).status,
    ).toBe(200);
    expect((await admin.put(`/cards/${dated}/rates`, { rates: [uk] })).status).toBe(409);
    // The same cut as a scheduled revision: cancelling it is the same raise.
    const id = await noticedCard('Cut as a revision', uk);
    const scheduled = await admin.put(`/cards/${id}/rates`, { rates: [cut], liveAt: inHours(10) });
    expect(scheduled.status).toBe(200);
    const cancelled = await admin.del(`/cards/${id}/revisions/${scheduled.body.revision.number}`);
    expect([cancelled.status, cancelled.body?.error?.code]).toEqual([409, 'notice_too_short']);
    expect((await revisions(id))[0]).toMatchObject({ state: 'scheduled' });
    // The cut on a card of no notice, followed by the same owner's derived card that gives
    // one: cancelling the parent's takes back the derived card's cut too — refused.
    const parent = (
      await admin.post('/cards', { name: 'Cut parent', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    expect((await admin.put(`/cards/${parent}/rates`, { rates: [uk] })).status).toBe(200);
    const child = (
      await admin.post(`/cards/${parent}/derive`, { name: 'Cut child', markupPercent: '20' })
    ).body;
    expect(
      (await admin.patch(`/cards/${child.id}`, { version: child.version, minNoticeHours: 48 }))
        .status,
    ).toBe(200);
    const parentCut = await admin.put(`/cards/${parent}/rates`, {
      rates: [cut],
      liveAt: inHours(10),
    });
    expect(parentCut.status).toBe(200);
    const withdrawn = await admin.del(
      `/cards/${parent}/revisions/${parentCut.body.revision.number}`,
    );
    expect([withdrawn.status, withdrawn.body?.error?.code]).toEqual([409, 'notice_too_short']);
    // A cut dated past the notice can be taken back: they are told 48 hours ahead.
    const far = await noticedCard('Cut far ahead', uk);
    const later = await admin.put(`/cards/${far}/rates`, { rates: [cut], liveAt: inHours(60) });
    expect((await admin.del(`/cards/${far}/revisions/${later.body.revision.number}`)).status).toBe(
      204,
    );
  });

  it('binds a lowered notice for its old hours, and a dearer rounding is a raise', async () => {
    const made = await admin.post('/cards', {
      name: 'Promised',
      currency: 'EUR',
      kind: 'provider',
    });
    const id = made.body.id as string;
    const row = (rate: string) => ({ prefix: '44', destination: 'UK', rate });
    expect((await admin.put(`/cards/${id}/rates`, { rates: [row('0.0100')] })).status).toBe(200);
    const versionOf = async (cardId: string) =>
      (await admin.get(`/cards/${cardId}`)).body.version as number;
    expect(
      (await admin.patch(`/cards/${id}`, { version: await versionOf(id), minNoticeHours: 48 }))
        .status,
    ).toBe(200);

    // A derived card's notice lowered in the request that raises its markup: refused.
    const derived = (
      await admin.post(`/cards/${id}/derive`, { name: 'Promised retail', markupPercent: '10' })
    ).body;
    const noticed = await admin.patch(`/cards/${derived.id}`, {
      version: derived.version,
      minNoticeHours: 24,
    });
    const both = await admin.patch(`/cards/${derived.id}`, {
      version: noticed.body.version,
      markupPercent: '20',
      minNoticeHours: null,
    });
    expect([both.status, both.body.error?.code]).toEqual([409, 'notice_too_short']);

    // Lowered on its own, the card says none, and a raise still needs the 48 hours.
    const lowered = await admin.patch(`/cards/${id}`, {
      version: await versionOf(id),
      minNoticeHours: null,
    });
    expect([lowered.status, lowered.body.minNoticeHours]).toEqual([200, null]);
    const short = await admin.put(`/cards/${id}/rates`, { rates: [row('0.0200')] });
    expect([short.status, short.body.error?.code]).toEqual([409, 'notice_too_short']);
    expect(short.body.error.message).toMatch(/its notice was lowered: the old one binds until /);
    const later = await admin.put(`/cards/${id}/rates`, {
      rates: [row('0.0200')],
      liveAt: inHours(49),
    });
    expect(later.status).toBe(200);
    expect((await admin.del(`/cards/${id}/revisions/${later.body.revision.number}`)).status).toBe(
      204,
    );

    // The same rows priced by a mode that rounds higher, or finer after rounding down: a
    // raise of every row. Rounding lower needs no notice.
    const patched = async (patch: Record<string, unknown>) =>
      admin.patch(`/cards/${id}`, { version: await versionOf(id), ...patch });
    const up = await patched({ rounding: 'up' });
    expect([up.status, up.body.error?.code]).toEqual([409, 'notice_too_short']);
    expect((await patched({ rounding: 'down' })).status).toBe(200);
    const finer = await patched({ decimals: 6 });
    expect([finer.status, finer.body.error?.code]).toEqual([409, 'notice_too_short']);
    const halfEven = await patched({ rounding: 'half_even' });
    expect([halfEven.status, halfEven.body.error?.code]).toEqual([409, 'notice_too_short']);
    expect((await admin.get(`/cards/${id}`)).body).toMatchObject({ rounding: 'down', decimals: 4 });
  });

  it('compares each moment a price changes: an undated row over one dated later', async () => {
    const made = await admin.post('/cards', { name: 'Moments', currency: 'EUR', kind: 'provider' });
    const id = made.body.id as string;
    // 44 is priced only from a date ten hours ahead, at 0.0100.
    const dated = { prefix: '44', destination: 'UK', rate: '0.0100', effectiveFrom: inHours(10) };
    expect((await admin.put(`/cards/${id}/rates`, { rates: [dated] })).status).toBe(200);
    const version = (await admin.get(`/cards/${id}`)).body.version as number;
    expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
    // An undated 0.0500 in its place: from ten hours on, calls that would have cost
    // 0.0100 cost 0.0500 — with ten hours' notice, not 48.
    const undated = { prefix: '44', destination: 'UK', rate: '0.0500' };
    const short = await admin.put(`/cards/${id}/rates`, { rates: [undated] });
    expect(short.status).toBe(409);
    expect(short.body.error).toMatchObject({ code: 'notice_too_short', raised: 1 });
    expect(short.body.error.message).toContain(`the first from ${dated.effectiveFrom}`);
    // Kept beside the dated row, the undated one prices only the ten hours before it,
    // which were not priced at all: nothing goes up, and a new prefix needs no notice.
    const both = [undated, dated, { prefix: '33', destination: 'France', rate: '0.0900' }];
    expect((await admin.put(`/cards/${id}/rates`, { rates: both })).status).toBe(200);
    // Now in force: unchanged rows beside a cheaper one elsewhere need none either.
    const cheaper = [undated, dated, { prefix: '33', destination: 'France', rate: '0.0800' }];
    expect((await admin.put(`/cards/${id}/rates`, { rates: cheaper })).status).toBe(200);
    // The dated row dearer: raised from its date.
    const dearer = [undated, { ...dated, rate: '0.0200' }, cheaper[2]!];
    const again = await admin.put(`/cards/${id}/rates`, { rates: dearer });
    expect(again.body.error).toMatchObject({ code: 'notice_too_short', raised: 1 });
  });

  it('applies at start a revision that came due while no server ran', async () => {
    const liveAt = inHours(72);
    const put = await admin.put(`/cards/${card.P}/rates`, { rates: FIRST, liveAt });
    expect(put.status).toBe(200);
    const number = put.body.revision.number as number;
    // The panel was down past its date: moved into the past behind the trigger's back.
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `update rate_revision set live_at = now() - interval '1 minute'
          where card_id in (?, ?) and live_at = ?`,
        [card.P, card.D, liveAt],
      );
    });
    // A process starting now (the server's own timer sleeps until its next poll).
    const starting = new RevisionTimer(suite.orm);
    starting.start();
    try {
      await until(
        () => false,
        'never',
        async () => {
          const states = await revisions(card.P);
          return states.find((row) => row.number === number)?.state === 'live';
        },
      );
    } finally {
      await starting.stop();
    }
    expect(await rates(card.P)).toMatchObject({ '44': '0.0200', '441': '0.0400' });
    expect((await revisions(card.D))[0]).toMatchObject({ state: 'live' });
  });

  it.skipIf(embedded)(
    'waits for a date by the database’s clock, not a process clock running ahead',
    async () => {
      const release = await holdRevisionTimers();
      const put = await admin.put(`/cards/${card.P}/rates`, { rates: FIRST, liveAt: inHours(1) });
      expect(put.status).toBe(200);
      // This process's clock two hours ahead: the revision is an hour away for the database.
      const forks = vi.spyOn(suite.orm.em, 'fork');
      vi.useFakeTimers({
        toFake: ['Date'],
        now: Date.now() + 2 * 3_600_000,
        shouldAdvanceTime: true,
      });
      const timer = new RevisionTimer(suite.orm);
      try {
        timer.start();
        await new Promise((resolve) => setTimeout(resolve, 500));
        // One look, then asleep until the next minute's poll: never a look every few ms.
        expect(forks.mock.calls.length).toBeLessThanOrEqual(2);
      } finally {
        await timer.stop();
        vi.useRealTimers();
        forks.mockRestore();
        release();
      }
      const number = put.body.revision.number as number;
      expect((await admin.del(`/cards/${card.P}/revisions/${number}`)).status).toBe(204);
    },
  );

  it('is read and written only as the card’s rates are: outsiders get 404', async () => {
    expect((await outsider.get(`/cards/${card.P}/revisions`)).status).toBe(404);
    expect((await outsider.get(`/cards/${card.P}/revisions/1/diff`)).status).toBe(404);
    expect((await outsider.post(`/cards/${card.P}/revisions/1/rollback`, {})).status).toBe(404);
    expect((await outsider.del(`/cards/${card.P}/revisions/1`)).status).toBe(404);
  });
});

describe('notice of a scheduled revision', () => {
  const cardOf = {} as Record<'N' | 'sell', string>;
  let holder: TApiClient;
  let sibling: TApiClient;

  beforeAll(async () => {
    const group = (await admin.post('/groups', { template: 'default-reseller', name: 'Buyers' }))
      .body.id;
    const person = async (name: string) => {
      const account = (await admin.post('/resellers', { name, email: `${name}@n.test` })).body.id;
      const email = `ops@${name.toLowerCase()}.test`;
      await admin.post('/users', { email, password: PASSWORD, accountId: account, groupId: group });
      return { account, client: await apiClient(suite.server.url, email, PASSWORD) };
    };
    const bought = await person('Holder');
    holder = bought.client;
    sibling = (await person('Sibling')).client;
    cardOf.N = (
      await admin.post('/cards', { name: 'Noticed', currency: 'EUR', kind: 'customer' })
    ).body.id;
    expect((await admin.put(`/cards/${cardOf.N}/rates`, { rates: FIRST })).status).toBe(200);
    expect(
      (await admin.post('/assignments', { cardId: cardOf.N, accountId: bought.account })).status,
    ).toBe(201);
    // The holder sells on it: its derived card follows the parent's date.
    const derived = await holder.post(`/cards/${cardOf.N}/derive`, {
      name: 'Holder retail',
      markupPercent: '20',
    });
    expect(derived.status).toBe(201);
    cardOf.sell = derived.body.id;
  });

  const notices = async (client: TApiClient, kind = 'card.revision_scheduled') =>
    (
      (await client.get('/notifications')).body.items as {
        kind: string;
        title: string;
        body: string;
        link: string;
      }[]
    ).filter((notice) => notice.kind === kind);

  it('tells the holder (and, for its derived card, its owner) what changes and when; nobody else', async () => {
    const liveAt = inHours(30);
    const put = await admin.put(`/cards/${cardOf.N}/rates`, { rates: SECOND, liveAt });
    expect(put.status).toBe(200);
    const told = await notices(holder);
    expect(told.map((notice) => notice.link).sort()).toEqual(
      [`/cards/${cardOf.N}?tab=revisions`, `/cards/${cardOf.sell}?tab=revisions`].sort(),
    );
    const parent = told.find((notice) => notice.link.startsWith(`/cards/${cardOf.N}`))!;
    expect(parent.title).toBe(
      `Noticed: new rates from ${liveAt.slice(0, 16).replace('T', ' ')} UTC`,
    );
    expect(parent.body).toBe(
      `Revision 2 of Noticed goes live at ${liveAt}: 1 prefix up, 1 down, 1 new, 1 removed, 1 with other terms changed.`,
    );
    // The sibling reseller holds nothing of it; the owner's own side scheduled it.
    expect(await notices(sibling)).toEqual([]);
    expect(await notices(admin)).toEqual([]);
  });

  it('tells those it told when the revision is cancelled: the holder, for both cards; nobody else', async () => {
    const cancelledNotices = (client: TApiClient) => notices(client, 'card.revision_cancelled');
    const scheduled = (await admin.get(`/cards/${cardOf.N}/revisions`)).body.items[0];
    expect(scheduled).toMatchObject({ number: 2, state: 'scheduled' });
    expect((await admin.del(`/cards/${cardOf.N}/revisions/2`)).status).toBe(204);
    const told = await cancelledNotices(holder);
    expect(told.map((notice) => notice.link).sort()).toEqual(
      [`/cards/${cardOf.N}?tab=revisions`, `/cards/${cardOf.sell}?tab=revisions`].sort(),
    );
    const liveAt = new Date(scheduled.liveAt).toISOString();
    const parent = told.find((notice) => notice.link.startsWith(`/cards/${cardOf.N}`))!;
    expect(parent.title).toBe(
      `Noticed: the rates from ${liveAt.slice(0, 16).replace('T', ' ')} UTC are cancelled`,
    );
    expect(parent.body).toBe(
      `Revision 2 of Noticed, due to go live at ${liveAt}, is cancelled: the rates in force stay.`,
    );
    expect(await cancelledNotices(sibling)).toEqual([]);
    expect(await cancelledNotices(admin)).toEqual([]);
  });

  it('does not tell an account that no longer holds the card of its cancelling', async () => {
    const cardId = (
      await admin.post('/cards', { name: 'Taken back', currency: 'EUR', kind: 'customer' })
    ).body.id as string;
    expect((await admin.put(`/cards/${cardId}/rates`, { rates: FIRST })).status).toBe(200);
    const siblingAccount = (await sibling.get('/me')).body.account.id as string;
    const assigned = await admin.post('/assignments', { cardId, accountId: siblingAccount });
    expect(assigned.status).toBe(201);
    const put = await admin.put(`/cards/${cardId}/rates`, { rates: SECOND, liveAt: inHours(30) });
    expect(put.status).toBe(200);
    expect((await notices(sibling)).map((notice) => notice.link)).toContain(
      `/cards/${cardId}?tab=revisions`,
    );
    // The card is taken back before the revision is cancelled: the sibling reads it no more.
    expect((await admin.del(`/assignments/${assigned.body.id}`)).status).toBe(204);
    expect((await admin.del(`/cards/${cardId}/revisions/2`)).status).toBe(204);
    expect(await notices(sibling, 'card.revision_cancelled')).toEqual([]);
  });
});

describe('a revision whose date has come, before the revision timer applies it', () => {
  const cardOf = {} as Record<'Q' | 'sell', string>;
  let release: () => void;

  beforeAll(async () => {
    cardOf.Q = (
      await admin.post('/cards', { name: 'Due', currency: 'EUR', kind: 'provider' })
    ).body.id;
    expect((await admin.put(`/cards/${cardOf.Q}/rates`, { rates: FIRST })).status).toBe(200);
    const derived = await admin.post(`/cards/${cardOf.Q}/derive`, {
      name: 'Due sell',
      markupPercent: '50',
    });
    expect(derived.status).toBe(201);
    cardOf.sell = derived.body.id;
    const liveAt = inHours(2);
    const put = await admin.put(`/cards/${cardOf.Q}/rates`, { rates: SECOND, liveAt });
    expect(put.body.revision).toMatchObject({ number: 2, state: 'scheduled' });
    // Its date comes (moved behind the trigger's back) while the timer is held off.
    release = await holdRevisionTimers();
    await suite.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`set local session_replication_role = replica`);
      await tx.execute(
        `update rate_revision set live_at = now() - interval '1 minute'
          where card_id in (?, ?) and live_at = ?`,
        [cardOf.Q, cardOf.sell, liveAt],
      );
    });
  });

  afterAll(() => release?.());

  const lookup = (at?: string) =>
    admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${cardOf.sell}&number=4420${
        at ? `&at=${encodeURIComponent(at)}` : ''
      }`,
    );
  const ratesOf = (answer: { body: { levels: { rate: string }[] } }) =>
    answer.body.levels.map((level) => level.rate);

  it('prices calls with it: the trace without `at` answers as at now', async () => {
    // `rate`, the applied set, still holds the old prices...
    expect(await rates(cardOf.Q)).toMatchObject({ '44': '0.0200', '441': '0.0400' });
    // ...but calls starting now are rated with revision 2, at every level.
    const now = await lookup();
    expect(now.status).toBe(200);
    expect(ratesOf(now)).toEqual(['0.0250', '0.0375']);
    expect((await lookup(new Date().toISOString())).body).toEqual(now.body);
  });

  it('is listed live, the one before it superseded: the panel offers no Cancel', async () => {
    expect((await revisions(cardOf.Q)).map((row) => [row.number, row.state])).toEqual([
      [2, 'live'],
      [1, 'superseded'],
    ]);
    expect((await revisions(cardOf.sell))[0]).toMatchObject({ number: 2, state: 'live' });
  });

  it('is not cancelled: calls may be charged at it already', async () => {
    const cancel = await admin.del(`/cards/${cardOf.Q}/revisions/2`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('revision_live');
    expect(cancel.body.error.message).toMatch(/^Revision 2 went live at /);
    expect((await revisions(cardOf.Q))[0]).toMatchObject({ number: 2 });
    expect((await revisions(cardOf.Q))[0]!.state).not.toBe('cancelled');
  });

  it('nor is one going live within the minutes a call may be dated ahead', async () => {
    const soon = (await admin.post('/cards', { name: 'Soon', currency: 'EUR', kind: 'provider' }))
      .body.id;
    expect((await admin.put(`/cards/${soon}/rates`, { rates: FIRST })).status).toBe(200);
    const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    const put = await admin.put(`/cards/${soon}/rates`, { rates: SECOND, liveAt: inMinutes(2) });
    expect(put.body.revision).toMatchObject({ number: 2, state: 'scheduled' });
    // A call dated two minutes ahead (its switch's clock) is rated at it already.
    const cancel = await admin.del(`/cards/${soon}/revisions/2`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('revision_live');
    expect(cancel.body.error.message).toMatch(/^Revision 2 goes live at .* within the 5 minutes/);
    expect((await revisions(soon))[0]).toMatchObject({ number: 2, state: 'scheduled' });
  });

  it('once applied, answers the same from the live set', async () => {
    const before = await lookup();
    expect(await applyDueRevisions(suite.orm.em.fork())).toBe(2);
    expect(await rates(cardOf.Q)).toMatchObject({ '44': '0.0250' });
    expect((await lookup()).body).toEqual(before.body);
    expect(ratesOf(before)).toEqual(['0.0250', '0.0375']);
    expect((await admin.del(`/cards/${cardOf.Q}/revisions/2`)).body.error.code).toBe(
      'revision_live',
    );
  });
});

describe('a revision that only turns a row losing', () => {
  it('reads as unchanged to the card’s holder: counts, diff, notice and live event', async () => {
    // The carrier sells 44 at a fixed 0.0150 over a provider at 0.0100, to reseller R.
    const provider = (
      await admin.post('/cards', { name: 'Quiet buy', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    const buy = [
      { prefix: '44', destination: 'UK', rate: '0.0100' },
      { prefix: '33', destination: 'France', rate: '0.0100' },
    ];
    expect((await admin.put(`/cards/${provider}/rates`, { rates: buy })).status).toBe(200);
    const sell = await admin.post(`/cards/${provider}/derive`, {
      name: 'Quiet sell',
      markupPercent: '50',
      overrides: [{ prefix: '44', rate: '0.0150' }],
    });
    expect(sell.status).toBe(201);
    const reseller = (await outsider.get('/me')).body.account.id as string;
    expect(
      (await admin.post('/assignments', { cardId: sell.body.id, accountId: reseller })).status,
    ).toBe(201);
    const listener = await listen(outsider);
    try {
      // The provider's 44 rises above the fixed price from a later date: only the sell
      // card's `losing` turns on 44 — what its holder must not learn.
      const up = buy.map((row) => (row.prefix === '44' ? { ...row, rate: '0.0200' } : row));
      const put = await admin.put(`/cards/${provider}/rates`, { rates: up, liveAt: inHours(40) });
      expect(put.status).toBe(200);
      const latest = async (client: TApiClient) =>
        (await client.get(`/cards/${sell.body.id}/revisions`)).body.items[0] as {
          number: number;
          counts: Record<string, number>;
        };
      const owned = await latest(admin);
      expect(owned.counts).toMatchObject({ changed: 1, unchanged: 1 });
      const held = await latest(outsider);
      expect(held.number).toBe(owned.number);
      expect(held.counts).toEqual({
        added: 0,
        removed: 0,
        increased: 0,
        decreased: 0,
        changed: 0,
        unchanged: 2,
      });

      const diff = (client: TApiClient, query = '') =>
        client.get(`/cards/${sell.body.id}/revisions/${owned.number}/diff${query}`);
      const prefixes = (body: { items: { prefix: string; change: string }[] }) =>
        body.items.map((row) => [row.prefix, row.change]);
      expect(prefixes((await diff(admin)).body)).toEqual([['44', 'changed']]);
      expect((await diff(outsider)).body.counts).toEqual(held.counts);
      expect(prefixes((await diff(outsider)).body)).toEqual([]);
      expect(prefixes((await diff(outsider, '?change=changed')).body)).toEqual([]);
      expect(prefixes((await diff(outsider, '?change=unchanged')).body)).toEqual([
        ['33', 'unchanged'],
        ['44', 'unchanged'],
      ]);

      // Live: the holder hears of the revision with the counts it reads, and no notice.
      await until(
        () =>
          listener.received.some(
            (e) => e.id === sell.body.id && e.type === 'cards.revision_scheduled',
          ),
        'the holder to hear of the revision',
      );
      const heard = listener.received.find(
        (e) => e.id === sell.body.id && e.type === 'cards.revision_scheduled',
      )!;
      expect(heard.summary).toMatchObject({ counts: held.counts });
      const notices = (await outsider.get('/notifications')).body.items as { link: string }[];
      expect(notices.filter((n) => n.link === `/cards/${sell.body.id}?tab=revisions`)).toEqual([]);
    } finally {
      listener.socket.close();
    }
  });
});

describe('a card deleted after a derived card stopped following it', () => {
  it("leaves the derived card's past revisions, and its prices then, as they were", async () => {
    const provider = async (name: string, rate: string) => {
      const made = await admin.post('/cards', { name, currency: 'EUR', kind: 'provider' });
      expect(made.status).toBe(201);
      const put = await admin.put(`/cards/${made.body.id}/rates`, {
        rates: [{ prefix: '44', destination: 'UK', rate }],
      });
      expect(put.status).toBe(200);
      return made.body.id as string;
    };
    const first = await provider('Old buy', '0.0100');
    const second = await provider('New buy', '0.0100');
    const derived = await admin.post(`/cards/${first}/derive`, {
      name: 'Sell on',
      markupPercent: '10',
    });
    expect(derived.status).toBe(201);
    const sell = derived.body.id as string;
    // Revision 2 of the derived card follows the old parent's revision 2.
    expect(
      (
        await admin.put(`/cards/${first}/rates`, {
          rates: [{ prefix: '44', destination: 'UK', rate: '0.0200' }],
        })
      ).status,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const then = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const current = (await admin.get(`/cards/${sell}`)).body;
    const moved = await admin.patch(`/cards/${sell}`, {
      version: current.version,
      parents: [second],
    });
    expect(moved.status).toBe(200);
    const before = (await revisions(sell)).map((row) => [row.number, row.source]);
    expect(before).toEqual([
      [3, 'markup'],
      [2, 'parent'],
      [1, 'parent'],
    ]);
    expect((await admin.del(`/cards/${first}`)).status).toBe(204);
    expect((await revisions(sell)).map((row) => [row.number, row.source])).toEqual(before);
    const at = await admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${sell}&number=4420&at=${encodeURIComponent(then)}`,
    );
    expect(at.status).toBe(200);
    expect(at.body.levels[0].rate).toBe('0.0220');
  });
});

describe('a cancelled revision followed by a card and by a card between them', () => {
  it('computes the later revisions of the lower card without the cancelled one', async () => {
    const provider = async (name: string, rate: string) => {
      const made = await admin.post('/cards', {
        name,
        currency: 'EUR',
        kind: 'provider',
        decimals: 4,
      });
      expect(made.status).toBe(201);
      const rows = [{ prefix: '44', destination: 'UK', rate }];
      expect((await admin.put(`/cards/${made.body.id}/rates`, { rates: rows })).status).toBe(200);
      return made.body.id as string;
    };
    const a = await provider('Upstream A', '0.0100');
    const b = await provider('Upstream B', '0.0200');
    // D follows A first, then C (derived from A), then B, averaged. Cancelling is the one
    // place followers are taken by the revision they followed: D's first follows A's, as
    // C's does. The order D before C is the one that read C's cancelled revision, so C and
    // D are made until D's id sorts first (a coin toss each time: made anew both, as a C
    // whose id sorts near the start would leave D almost no chance).
    let c = '';
    let d = '';
    for (let attempt = 0; attempt < 40 && !(d && d < c); attempt++) {
      if (d) {
        expect((await admin.del(`/cards/${d}`)).status).toBe(204);
        expect((await admin.del(`/cards/${c}`)).status).toBe(204);
      }
      const middle = await admin.post(`/cards/${a}/derive`, {
        name: `Middle C ${attempt}`,
        markupPercent: '10',
      });
      expect(middle.status).toBe(201);
      c = middle.body.id;
      const made = await admin.post(`/cards/${a}/derive`, {
        name: `Lower D ${attempt}`,
        moreParents: [c, b],
        compaction: 'average',
        markupPercent: '0',
      });
      expect(made.status).toBe(201);
      d = made.body.id;
    }
    expect(d < c).toBe(true);
    const first = inHours(6);
    const second = inHours(7);
    const rows = (rate: string) => ({ rates: [{ prefix: '44', destination: 'UK', rate }] });
    expect(
      (await admin.put(`/cards/${a}/rates`, { ...rows('0.0050'), liveAt: first })).status,
    ).toBe(200);
    expect(
      (await admin.put(`/cards/${b}/rates`, { ...rows('0.0190'), liveAt: second })).status,
    ).toBe(200);
    const cancelled = await admin.get(`/cards/${a}/revisions`);
    const scheduled = (cancelled.body.items as { number: number; state: string }[]).find(
      (row) => row.state === 'scheduled',
    )!;
    expect((await admin.del(`/cards/${a}/revisions/${scheduled.number}`)).status).toBe(204);
    const at = new Date(Date.parse(second) + 1_000).toISOString();
    const traced = await admin.get(
      `/rates/lookup?accountId=${carrierId}&cardId=${d}&number=4420&at=${encodeURIComponent(at)}`,
    );
    expect(traced.status).toBe(200);
    // (0.0100 + 0.0110 + 0.0190) / 3, not with C's cancelled 0.0055.
    const lower = (traced.body.levels as { cardId: string; rate: string }[]).find(
      (level) => level.cardId === d,
    );
    expect(lower?.rate).toBe('0.0133');
  });
});

describe('an export read while a revision goes live', () => {
  it('gives the set live when it began, every batch of it', async () => {
    const id = (await admin.post('/cards', { name: 'Exported', currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    // Three batches of the export (5,000 rows each): a stream reads one ahead.
    const deck = (rate: string) =>
      Array.from({ length: 10_200 }, (_, n) => ({
        prefix: String(100_000 + n),
        destination: 'Somewhere',
        rate,
      }));
    expect((await admin.put(`/cards/${id}/rates`, { rates: deck('0.0100') })).status).toBe(200);
    const actor = await actorByEmail(suite.orm.em.fork(), ADMIN.email);
    const { stream } = await exportRates(suite.orm.em.fork(), actor, id, {
      stillAllowed: async () => {},
    });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The header and the first batch, then the next revision goes live (the second batch
    // may be read by then), then the rest.
    for (let chunk = 0; chunk < 2; chunk++) text += decoder.decode((await reader.read()).value);
    expect((await admin.put(`/cards/${id}/rates`, { rates: deck('0.0200') })).status).toBe(200);
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += decoder.decode(next.value);
    }
    const rows = text.trimEnd().split('\r\n').slice(1);
    expect(rows).toHaveLength(10_200);
    expect(new Set(rows.map((row) => row.split(',')[2]))).toEqual(new Set(['0.0100']));
  });
});

describe('a revisions cursor past any revision number', () => {
  it('is a 400 naming the cursor', async () => {
    for (const cursor of ['9999999999', '0', '01']) {
      const answer = await admin.get(`/cards/${card.P}/revisions?cursor=${cursor}`);
      expect([cursor, answer.status, answer.body.error?.fields]).toEqual([
        cursor,
        400,
        { cursor: 'is not a cursor this API gave out' },
      ]);
    }
  });
});

describe('a revision’s diff after the card’s precision is lowered', () => {
  it('shows each side at the precision it was priced with, not the card’s now', async () => {
    const made = await admin.post('/cards', {
      name: 'Fine grained',
      currency: 'EUR',
      kind: 'provider',
      decimals: 6,
    });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    for (const rate of ['0.123456', '0.1235']) {
      const put = await admin.put(`/cards/${id}/rates`, {
        rates: [{ prefix: '44', destination: 'UK', rate }],
      });
      expect(put.status).toBe(200);
    }
    const version = (await admin.get(`/cards/${id}`)).body.version;
    expect((await admin.patch(`/cards/${id}`, { version, decimals: 4 })).status).toBe(200);
    const diff = await admin.get(`/cards/${id}/revisions/2/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body.items).toMatchObject([
      {
        prefix: '44',
        change: 'increased',
        before: { rate: '0.123456', connectionFee: '0.000000' },
        after: { rate: '0.123500', connectionFee: '0.000000' },
      },
    ]);
  });
});

describe('a file with a row dated in the past', () => {
  it('is refused naming its line, as every other refusal of a file; nothing is written', async () => {
    const made = await admin.post('/cards', {
      name: 'Copied deck',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(made.status).toBe(201);
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const csv = [
      'prefix,destination,rate,effectiveFrom',
      '33,France,0.0100,',
      `44,UK,0.0200,${past}`,
      '49,Germany,0.0300,',
    ].join('\n');
    const imported = await admin.raw(
      'POST',
      `/cards/${made.body.id}/rates/import`,
      csv,
      'text/csv',
    );
    expect(imported.status).toBe(400);
    expect(JSON.parse(imported.text).error).toMatchObject({
      code: 'invalid_csv',
      lines: [
        {
          line: 3,
          reason: `effectiveFrom ${past} is in the past: a revision is not retroactive (date it from now on, or leave it empty)`,
        },
      ],
    });
    expect((await admin.get(`/cards/${made.body.id}`)).body.rateCount).toBe(0);
  });
});

describe('an undated row merged in where a dated row of its prefix is in force', () => {
  it('is refused naming its line, since the dated row would go on pricing every call', async () => {
    const made = await admin.post('/cards', {
      name: 'Dated deck',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    // 44 undated at 0.0100, then from a moment later at 0.0200: that row is in force.
    const soon = new Date(Date.now() + 1_200).toISOString();
    const put = await admin.put(`/cards/${id}/rates`, {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0100' },
        { prefix: '44', destination: 'UK', rate: '0.0200', effectiveFrom: soon },
        { prefix: '33', destination: 'France', rate: '0.0300' },
      ],
    });
    expect(put.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const merge = (csv: string) =>
      admin.raw('POST', `/cards/${id}/rates/import?mode=merge`, csv, 'text/csv');
    const refused = await merge('prefix,destination,rate\n33,France,0.0310\n44,UK,0.0500\n');
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error).toMatchObject({
      code: 'invalid_csv',
      lines: [
        {
          line: 3,
          reason: `effectiveFrom is empty, while prefix 44 has a row dated ${soon} in force, which prices calls over an undated one: date this row from when it should apply`,
        },
      ],
    });
    // Nothing was written; the API's PATCH is refused the same way, naming the field.
    expect((await admin.get(`/cards/${id}/revisions`)).body.items).toHaveLength(1);
    const version = (await admin.get(`/cards/${id}`)).body.version;
    const patched = await admin.patch(`/cards/${id}/rates`, {
      version,
      upsert: [{ prefix: '44', destination: 'UK', rate: '0.0500' }],
    });
    expect(patched.status).toBe(400);
    expect(patched.body.error.fields.effectiveFrom).toMatch(/^has no date, while prefix 44 /);
    // The set as it stands merged back (its undated row unchanged) hides nothing new.
    const exported = await admin.raw('GET', `/cards/${id}/rates/export`);
    expect((await merge(exported.text)).status).toBe(200);
    // Nor is the advice to be got round by replacing the set with the edited export.
    const edited = exported.text.replace(/^44,UK,0\.01\d*,.*$/m, (line) =>
      line.replace(/0\.01\d*/, '0.0500'),
    );
    expect(edited).not.toBe(exported.text);
    const replaced = await admin.raw('POST', `/cards/${id}/rates/import`, edited, 'text/csv');
    expect(replaced.status).toBe(400);
    expect(JSON.parse(replaced.text).error.lines).toHaveLength(1);
    // Dated from when it should apply, the new price is taken.
    const later = new Date(Date.now() + 60_000).toISOString();
    const dated = await merge(`prefix,destination,rate,effectiveFrom\n44,UK,0.0500,${later}\n`);
    expect(dated.status).toBe(200);
    // A revision scheduled past that date: the row dated then is in force when it goes live.
    const scheduled = await admin.raw(
      'POST',
      `/cards/${id}/rates/import?mode=merge&liveAt=${encodeURIComponent(
        new Date(Date.now() + 2 * 86_400_000).toISOString(),
      )}`,
      'prefix,destination,rate\n44,UK,0.0700\n',
      'text/csv',
    );
    expect(scheduled.status).toBe(400);
    expect(JSON.parse(scheduled.text).error.lines[0].reason).toContain(
      `prefix 44 has a row dated ${later} in force`,
    );
  });

  it('every such line is named, not the first few', async () => {
    const made = await admin.post('/cards', {
      name: 'Many late',
      currency: 'EUR',
      kind: 'provider',
    });
    expect(made.status).toBe(201);
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const rows = Array.from({ length: 8 }, (_, i) => `${40 + i},Somewhere,0.0100,${past}`);
    const imported = await admin.raw(
      'POST',
      `/cards/${made.body.id}/rates/import`,
      ['prefix,destination,rate,effectiveFrom', ...rows].join('\n'),
      'text/csv',
    );
    expect(imported.status).toBe(400);
    const error = JSON.parse(imported.text).error;
    expect(error.lines.map((line: { line: number }) => line.line)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(error.message).toBe('8 lines of the file cannot be imported; nothing was written.');
  });
});

describe('a customer’s card replaced by another', () => {
  it('is held to the old card’s notice when the new one prices a call higher', async () => {
    // P (UK 0.0200) → Held (+20 %: 0.0240, 48 hours' notice), Dearer (+50 %: 0.0300),
    // Cheaper (+10 %: 0.0220, no notice); K holds Held.
    const P = (await admin.post('/cards', { name: 'Swap P', currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    expect((await admin.put(`/cards/${P}/rates`, { rates: [FIRST[0]!] })).status).toBe(200);
    const derive = async (name: string, markupPercent: string) =>
      (await admin.post(`/cards/${P}/derive`, { name, markupPercent })).body.id as string;
    const held = await derive('Held', '20');
    const dearer = await derive('Dearer', '50');
    const cheaper = await derive('Cheaper', '10');
    const version = (await admin.get(`/cards/${held}`)).body.version as number;
    expect((await admin.patch(`/cards/${held}`, { version, minNoticeHours: 48 })).status).toBe(200);
    const k = (await admin.post('/customers', { name: 'Swap K' })).body.id as string;
    const given = await admin.post('/assignments', { cardId: held, accountId: k });
    expect(given.status).toBe(201);
    // What K pays for a minute to UK: the last level, its own card's.
    const price = async () =>
      (await admin.get(`/rates/lookup?accountId=${k}&number=4420&seconds=60`)).body.levels.at(-1)
        .amount as string;
    expect(await price()).toBe('0.0240');

    // Replaced by a dearer card at once: refused, naming the notice; K keeps its price.
    const swapped = await admin.post('/assignments', { cardId: dearer, accountId: k });
    expect(swapped.status).toBe(409);
    expect(swapped.body.error.code).toBe('notice_too_short');
    expect(swapped.body.error.message).toContain('48 hours');
    expect(await price()).toBe('0.0240');
    // Taken away, then the dearer card given: the same notice binds.
    expect((await admin.del(`/assignments/${given.body.id}`)).status).toBe(204);
    const later = await admin.post('/assignments', { cardId: dearer, accountId: k });
    expect(later.status).toBe(409);
    expect(later.body.error.code).toBe('notice_too_short');
    // A cheaper card needs no notice of its prices, but must promise K as much notice as
    // the old one did (else, swapped in, it could be raised at once).
    const promising = await admin.post('/assignments', { cardId: cheaper, accountId: k });
    expect([promising.status, promising.body.error?.message]).toEqual([
      409,
      expect.stringContaining('give it at least 48 hours'),
    ]);
    const cheap = (await admin.get(`/cards/${cheaper}`)).body.version as number;
    expect(
      (await admin.patch(`/cards/${cheaper}`, { version: cheap, minNoticeHours: 48 })).status,
    ).toBe(200);
    expect((await admin.post('/assignments', { cardId: cheaper, accountId: k })).status).toBe(201);
    expect(await price()).toBe('0.0220');
    // From it, the dearer card is a raise on it and on the card held before.
    const through = await admin.post('/assignments', { cardId: dearer, accountId: k });
    expect(through.status).toBe(409);
    // Going back to the dearer one it had is a raise on what K pays now.
    expect((await admin.post('/assignments', { cardId: held, accountId: k })).status).toBe(409);
    expect(await price()).toBe('0.0220');
  });
});

describe('a customer’s card replaced while the old one has a revision scheduled', () => {
  /** Two customer cards of the carrier's, UK at `a` and `b`, 48 hours' notice; K holds A. */
  async function world(name: string, a: string, b: string) {
    const make = async (card: string, rate: string) => {
      const id = (await admin.post('/cards', { name: card, currency: 'EUR', kind: 'customer' }))
        .body.id as string;
      expect(
        (await admin.put(`/cards/${id}/rates`, { rates: [{ ...FIRST[0]!, rate }] })).status,
      ).toBe(200);
      const { version } = (await admin.get(`/cards/${id}`)).body;
      expect((await admin.patch(`/cards/${id}`, { version, minNoticeHours: 48 })).status).toBe(200);
      return id;
    };
    const A = await make(`${name} A`, a);
    const B = await make(`${name} B`, b);
    const k = (await admin.post('/customers', { name: `${name} K` })).body.id as string;
    expect((await admin.post('/assignments', { cardId: A, accountId: k })).status).toBe(201);
    return { A, B, k };
  }

  it('refuses a card priced at a raise the old one schedules: that raise brought forward', async () => {
    const { A, B, k } = await world('Ahead', '0.0200', '0.0300');
    const raise = await admin.put(`/cards/${A}/rates`, {
      rates: [{ ...FIRST[0]!, rate: '0.0300' }],
      liveAt: inHours(49),
    });
    expect(raise.status).toBe(200);
    const swap = await admin.post('/assignments', { cardId: B, accountId: k });
    expect([swap.status, swap.body.error?.code]).toEqual([409, 'notice_too_short']);
  });

  it('refuses a card with a raise of its own scheduled within the notice', async () => {
    const { k } = await world('Own raise', '0.0200', '0.0200');
    // B: today's price, a raise in two hours, then a notice (it binds what comes next).
    const B = (
      await admin.post('/cards', { name: 'Own raise C', currency: 'EUR', kind: 'customer' })
    ).body.id as string;
    expect((await admin.put(`/cards/${B}/rates`, { rates: [FIRST[0]!] })).status).toBe(200);
    const soon = await admin.put(`/cards/${B}/rates`, {
      rates: [{ ...FIRST[0]!, rate: '0.0500' }],
      liveAt: inHours(2),
    });
    expect(soon.status).toBe(200);
    const { version } = (await admin.get(`/cards/${B}`)).body;
    expect((await admin.patch(`/cards/${B}`, { version, minNoticeHours: 48 })).status).toBe(200);
    const swap = await admin.post('/assignments', { cardId: B, accountId: k });
    expect([swap.status, swap.body.error?.code]).toEqual([409, 'notice_too_short']);
  });

  it('refuses a card bringing back later, dearer, a route the old card took away', async () => {
    const fr = { prefix: '33', destination: 'France', rate: '0.0100' };
    const { A, k } = await world('Back later', '0.0100', '0.0100');
    // A has UK and France a notice ago; UK is taken away (no raise).
    expect(
      (await admin.put(`/cards/${A}/rates`, { rates: [{ ...FIRST[0]!, rate: '0.0100' }, fr] }))
        .status,
    ).toBe(200);
    await suite.orm.em
      .fork()
      .execute(
        `update rate_revision set created_at = created_at - interval '3 days' where card_id = ?`,
        [A],
      );
    expect((await admin.put(`/cards/${A}/rates`, { rates: [fr] })).status).toBe(200);
    // C: France now, UK at five times the price in an hour.
    const C = (
      await admin.post('/cards', { name: 'Back later C', currency: 'EUR', kind: 'customer' })
    ).body.id as string;
    expect((await admin.put(`/cards/${C}/rates`, { rates: [fr] })).status).toBe(200);
    const later = await admin.put(`/cards/${C}/rates`, {
      rates: [fr, { ...FIRST[0]!, rate: '0.0500' }],
      liveAt: inHours(1),
    });
    expect(later.status).toBe(200);
    const { version } = (await admin.get(`/cards/${C}`)).body;
    expect((await admin.patch(`/cards/${C}`, { version, minNoticeHours: 48 })).status).toBe(200);
    const swap = await admin.post('/assignments', { cardId: C, accountId: k });
    expect([swap.status, swap.body.error?.code]).toEqual([409, 'notice_too_short']);
  });

  it('refuses a card of the same rows that rounds some call higher', async () => {
    const row = { ...FIRST[0]!, rate: '0.0100', initialIncrement: 1, increment: 1 };
    const make = async (name: string, rounding: string) => {
      const made = await admin.post('/cards', {
        name,
        currency: 'EUR',
        kind: 'customer',
        rounding,
      });
      expect((await admin.put(`/cards/${made.body.id}/rates`, { rates: [row] })).status).toBe(200);
      const { version } = (await admin.get(`/cards/${made.body.id}`)).body;
      expect(
        (await admin.patch(`/cards/${made.body.id}`, { version, minNoticeHours: 48 })).status,
      ).toBe(200);
      return made.body.id as string;
    };
    const A = await make('Rounds down', 'down');
    const B = await make('Rounds up', 'up');
    const k = (await admin.post('/customers', { name: 'Rounds K' })).body.id as string;
    expect((await admin.post('/assignments', { cardId: A, accountId: k })).status).toBe(201);
    // A 7 s call: 0.0011 rounded down, 0.0012 up.
    const swap = await admin.post('/assignments', { cardId: B, accountId: k });
    expect([swap.status, swap.body.error?.code]).toEqual([409, 'notice_too_short']);
  });

  it('keeps the old card while its notice binds: deleting it would erase what is owed', async () => {
    const { A, B, k } = await world('Deleted A', '0.0100', '0.0500');
    const given = (await admin.get(`/assignments?accountId=${k}`)).body.items[0].id as string;
    expect((await admin.del(`/assignments/${given}`)).status).toBe(204);
    const deleted = await admin.del(`/cards/${A}`);
    expect([deleted.status, deleted.body?.error?.code]).toEqual([409, 'notice_binds']);
    const swap = await admin.post('/assignments', { cardId: B, accountId: k });
    expect([swap.status, swap.body.error?.code]).toEqual([409, 'notice_too_short']);
  });

  it('takes a card of the same prices with the same cut scheduled', async () => {
    const { A, B, k } = await world('Same cut', '0.0200', '0.0200');
    const at = inHours(10);
    for (const id of [A, B]) {
      const cut = await admin.put(`/cards/${id}/rates`, {
        rates: [{ ...FIRST[0]!, rate: '0.0100' }],
        liveAt: at,
      });
      expect(cut.status).toBe(200);
    }
    expect((await admin.post('/assignments', { cardId: B, accountId: k })).status).toBe(201);
  });

  it('takes a card at today’s prices when the old one schedules a cut past the notice', async () => {
    const { A, B, k } = await world('Cut later', '0.0200', '0.0200');
    const cut = await admin.put(`/cards/${A}/rates`, {
      rates: [{ ...FIRST[0]!, rate: '0.0100' }],
      liveAt: inHours(200),
    });
    expect(cut.status).toBe(200);
    expect((await admin.post('/assignments', { cardId: B, accountId: k })).status).toBe(201);
  });
});

describe('a reseller’s card carried along by a write above', () => {
  it('is held to what that write set, not to what came before it: a markup cut passes', async () => {
    const me = (await outsider.get('/me')).body.account.id as string;
    const P = (await admin.post('/cards', { name: 'Carry P', currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0200' };
    expect((await admin.put(`/cards/${P}/rates`, { rates: [uk] })).status).toBe(200);
    const S = (await admin.post(`/cards/${P}/derive`, { name: 'Carry S', markupPercent: '0' })).body
      .id as string;
    expect((await admin.post('/assignments', { cardId: S, accountId: me })).status).toBe(201);
    const rc = (
      await outsider.post(`/cards/${S}/derive`, { name: 'Carry RC', markupPercent: '20' })
    ).body;
    const noticed = await outsider.patch(`/cards/${rc.id}`, {
      version: rc.version,
      minNoticeHours: 48,
    });
    expect(noticed.status).toBe(200);
    // The carrier adds a dearer London under UK: RC follows at once (a write above).
    const london = { prefix: '4420', destination: 'London', rate: '0.0400' };
    expect((await admin.put(`/cards/${P}/rates`, { rates: [uk, london] })).status).toBe(200);
    // RC's owner lowers its markup: no number is dearer than what RC's holders pay now.
    const { version } = (await outsider.get(`/cards/${rc.id}`)).body;
    const cut = await outsider.patch(`/cards/${rc.id}`, { version, markupPercent: '19' });
    expect([cut.status, cut.body.error?.code]).toEqual([200, undefined]);
  });

  it('is carried along through the owner’s own card between: a markup cut passes', async () => {
    const me = (await outsider.get('/me')).body.account.id as string;
    const P = (await admin.post('/cards', { name: 'Chain P', currency: 'EUR', kind: 'provider' }))
      .body.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0200' };
    expect((await admin.put(`/cards/${P}/rates`, { rates: [uk] })).status).toBe(200);
    const S = (await admin.post(`/cards/${P}/derive`, { name: 'Chain S', markupPercent: '0' })).body
      .id as string;
    expect((await admin.post('/assignments', { cardId: S, accountId: me })).status).toBe(201);
    const r1 = (
      await outsider.post(`/cards/${S}/derive`, { name: 'Chain R1', markupPercent: '10' })
    ).body.id as string;
    const rc = (
      await outsider.post(`/cards/${r1}/derive`, { name: 'Chain RC', markupPercent: '20' })
    ).body;
    expect(
      (await outsider.patch(`/cards/${rc.id}`, { version: rc.version, minNoticeHours: 48 })).status,
    ).toBe(200);
    const london = { prefix: '4420', destination: 'London', rate: '0.0400' };
    expect((await admin.put(`/cards/${P}/rates`, { rates: [uk, london] })).status).toBe(200);
    const { version } = (await outsider.get(`/cards/${rc.id}`)).body;
    const cut = await outsider.patch(`/cards/${rc.id}`, { version, markupPercent: '19' });
    expect([cut.status, cut.body.error?.code]).toEqual([200, undefined]);
  });

  it('excuses nothing a write above does not price: a route taken away, then back dearer', async () => {
    const me = (await outsider.get('/me')).body.account.id as string;
    const uk = { prefix: '44', destination: 'UK', rate: '0.0200' };
    const fr = { prefix: '33', destination: 'France', rate: '0.0100' };
    const carrierCard = async (name: string, rates: object[]) => {
      const id = (await admin.post('/cards', { name, currency: 'EUR', kind: 'customer' })).body
        .id as string;
      expect((await admin.put(`/cards/${id}/rates`, { rates })).status).toBe(200);
      expect((await admin.post('/assignments', { cardId: id, accountId: me })).status).toBe(201);
      return id;
    };
    const S1 = await carrierCard('Away S1', [uk, fr]);
    const S2 = await carrierCard('Away S2', [fr]);
    const rc = (
      await outsider.post(`/cards/${S1}/derive`, { name: 'Away RC', markupPercent: '20' })
    ).body;
    const k = (await outsider.post('/customers', { name: 'Away K' })).body.id as string;
    expect((await outsider.post('/assignments', { cardId: rc.id, accountId: k })).status).toBe(201);
    const version = async () => (await outsider.get(`/cards/${rc.id}`)).body.version as number;
    expect(
      (await outsider.patch(`/cards/${rc.id}`, { version: await version(), minNoticeHours: 48 }))
        .status,
    ).toBe(200);
    // UK taken away (no raise), a write above on the new parent (Germany added), then
    // UK back at twice the price: still a raise on what K was told.
    expect(
      (await outsider.patch(`/cards/${rc.id}`, { version: await version(), parents: [S2] })).status,
    ).toBe(200);
    const de = { prefix: '49', destination: 'Germany', rate: '0.0300' };
    expect((await admin.put(`/cards/${S2}/rates`, { rates: [fr, de] })).status).toBe(200);
    const back = await outsider.patch(`/cards/${rc.id}`, {
      version: await version(),
      parents: [S1],
      overrides: [{ prefix: '44', rate: '0.0500' }],
    });
    expect([back.status, back.body.error?.code]).toEqual([409, 'notice_too_short']);
  });
});
