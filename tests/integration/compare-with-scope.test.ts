import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { arrange } from '../fixtures/arrange';

/**
 * Profit assurance (`compareWith`) never reaches past what the card's owner may see
 * (DESIGN §1 "Rate cards": a reseller never sees a card it has no relation to, least of
 * all the provider cost above it). The margin report and the margin alerts compare only
 * with the cards the owner's account still sees; setting `compareWith` refuses a card
 * the owner could not see, whoever edits the card.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'compare-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
let reseller: TApiClient;
let sub: TApiClient;
let resellerId: string;
let groupId: string;
/** The carrier's customer card given to R, and its upstream provider card. */
let given: string;
let provider: string;

const GIVEN = [
  { prefix: '44', destination: 'UK', rate: '0.0200', connectionFee: '0.0100' },
  { prefix: '49', destination: 'Germany', rate: '0.0100' },
];
const PROVIDER = [
  { prefix: '44', destination: 'UK', rate: '0.0123', connectionFee: '0.0042' },
  { prefix: '49', destination: 'Germany', rate: '0.0077' },
];

/**
 * The card's margin alerts so far, oldest first: [count, prefixes] — of rows newly
 * losing (an event with none tells a report that losses were cured or moved).
 */
async function alerts(cardId: string) {
  const rows = await suite.orm.em
    .fork()
    .getConnection()
    .execute<{ summary: { count: number; prefixes: string[] } }[]>(
      `select summary from change_log
        where entity_id = ? and summary->>'event' = 'margin_alert' order by seq`,
      [cardId],
    );
  return rows
    .filter((row) => row.summary.count > 0)
    .map((row) => [row.summary.count, row.summary.prefixes]);
}

async function customerCard(client: TApiClient, name: string, rates: unknown[]) {
  const made = await client.post('/cards', { name, currency: 'EUR', kind: 'customer' });
  expect(made.status).toBe(201);
  expect((await client.put(`/cards/${made.body.id}/rates`, { rates })).status).toBe(200);
  return (await client.get(`/cards/${made.body.id}`)).body as { id: string; version: number };
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  groupId = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  resellerId = (await admin.post('/resellers', { name: 'R', email: 'r@x.test' })).body.id;
  await admin.post('/users', {
    email: 'ops@r.test',
    password: PASSWORD,
    accountId: resellerId,
    groupId,
  });
  reseller = await apiClient(suite.server.url, 'ops@r.test', PASSWORD);
  const subId = (await reseller.post('/resellers', { name: 'S', email: 's@x.test' })).body.id;
  expect(
    (
      await reseller.post('/users', {
        email: 'ops@s.test',
        password: PASSWORD,
        accountId: subId,
        groupId,
      })
    ).status,
  ).toBe(201);
  sub = await apiClient(suite.server.url, 'ops@s.test', PASSWORD);

  provider = (await admin.post('/cards', { name: 'Upstream', currency: 'EUR', kind: 'provider' }))
    .body.id;
  expect((await admin.put(`/cards/${provider}/rates`, { rates: PROVIDER })).status).toBe(200);
  given = (await admin.post('/cards', { name: 'Wholesale', currency: 'EUR', kind: 'customer' }))
    .body.id;
  expect((await admin.put(`/cards/${given}/rates`, { rates: GIVEN })).status).toBe(200);
});

/** The rows of a hand-built card found losing at its last check. */
async function lossCount(cardId: string): Promise<number> {
  const [row] = await suite.orm.em
    .fork()
    .execute<{ n: number }[]>(`select count(*)::int as n from assurance_loss where card_id = ?`, [
      cardId,
    ]);
  return row!.n;
}

describe('compareWith after the owner lost the card (repro A)', () => {
  it('reports and alerts only against cards the owner still holds', async () => {
    const assigned = await admin.post('/assignments', { cardId: given, accountId: resellerId });
    expect(assigned.status).toBe(201);
    // UK sells at nothing: it loses. Germany above the given 0.0100: fine, for now.
    const own = await customerCard(reseller, 'Hand-built', [
      { prefix: '44', destination: 'UK', rate: '0' },
      { prefix: '49', destination: 'Germany', rate: '0.0300' },
    ]);
    const patched = await reseller.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [given],
    });
    expect(patched.status).toBe(200);
    const held = await reseller.get(`/cards/${own.id}/margin`);
    expect(held.status).toBe(200);
    expect(held.body.items.map((row: { prefix: string }) => row.prefix)).toEqual(['44']);
    expect(await alerts(own.id)).toEqual([[1, ['44']]]);

    expect((await admin.del(`/assignments/${assigned.body.id}`)).status).toBe(204);
    expect((await reseller.get(`/cards/${given}`)).status).toBe(404);
    // Its losses against that card are forgotten at once, not at the next rate change.
    expect(await lossCount(own.id)).toBe(0);
    // The carrier reprices the card R no longer holds: Germany would now lose.
    const repriced = GIVEN.map((row) =>
      row.prefix === '49' ? { ...row, rate: '0.0500', connectionFee: '0.0300' } : row,
    );
    expect((await admin.put(`/cards/${given}/rates`, { rates: repriced })).status).toBe(200);

    const report = await reseller.get(`/cards/${own.id}/margin`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ total: 0, items: [], nextCursor: null });
    for (const secret of [given, 'Wholesale', '0.0500', '0.0300']) {
      expect(JSON.stringify(report.body)).not.toContain(secret);
    }
    // The carrier above R sees the same report: it mirrors the check R's alerts run.
    expect((await admin.get(`/cards/${own.id}/margin`)).body.total).toBe(0);
    expect(await alerts(own.id)).toEqual([[1, ['44']]]);

    // Given again: compared again, and what loses now is told afresh.
    const again = await admin.post('/assignments', { cardId: given, accountId: resellerId });
    expect(again.status).toBe(201);
    const back = await reseller.get(`/cards/${own.id}/margin`);
    expect(back.body.items.map((row: { prefix: string }) => row.prefix)).toEqual(['44', '49']);
    expect(back.body.items[1].buy.rate).toBe('0.0500');
    // Told at the assignment itself, not at the card's next rate change.
    expect(await alerts(own.id)).toEqual([
      [1, ['44']],
      [2, ['44', '49']],
    ]);
    expect(await lossCount(own.id)).toBe(2);
    // The same rates again: nothing new loses, nothing is told twice.
    expect((await admin.put(`/cards/${given}/rates`, { rates: repriced })).status).toBe(200);
    expect(await alerts(own.id)).toHaveLength(2);
    expect((await admin.del(`/assignments/${again.body.id}`)).status).toBe(204);
  });
});

/** R's customer `name`, whose user `email` R's group lets build and compare cards. */
async function customerWhoBuilds(name: string, email: string) {
  const customerId = (await reseller.post('/customers', { name })).body.id as string;
  const builders = await reseller.post('/groups', {
    name: `${name} builders`,
    grants: ['cards:read', 'cards:create', 'cards:update', 'rates:read', 'rates:update'],
    accountId: customerId,
  });
  expect(builders.status).toBe(201);
  const user = await reseller.post('/users', {
    email,
    password: PASSWORD,
    accountId: customerId,
    groupId: builders.body.id,
  });
  expect(user.status).toBe(201);
  return { customerId, k: await apiClient(suite.server.url, email, PASSWORD) };
}

describe('compareWith after a customer was given another card', () => {
  it('forgets its losses against the card it held at once, as a removal does', async () => {
    const { customerId, k } = await customerWhoBuilds('K', 'ops@k.test');
    const first = await customerCard(reseller, 'R retail', GIVEN);
    const second = await customerCard(reseller, 'R budget', GIVEN);
    expect(
      (await reseller.post('/assignments', { cardId: first.id, accountId: customerId })).status,
    ).toBe(201);
    // UK sells at nothing against the card it holds: it loses.
    const own = await customerCard(k, 'K hand-built', [
      { prefix: '44', destination: 'UK', rate: '0' },
      { prefix: '49', destination: 'Germany', rate: '0.0300' },
    ]);
    const patched = await k.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [first.id],
    });
    expect(patched.status).toBe(200);
    expect(await lossCount(own.id)).toBe(1);

    // R gives K another card: the one compared with is K's no longer.
    expect(
      (await reseller.post('/assignments', { cardId: second.id, accountId: customerId })).status,
    ).toBe(201);
    expect((await k.get(`/cards/${first.id}`)).status).toBe(404);
    expect(await lossCount(own.id)).toBe(0);
  });
});

describe('compareWith set by an editor above the owner (repro B)', () => {
  it('refuses a card the owner has no relation to, as the editor check does', async () => {
    const own = await customerCard(reseller, 'Retail R', [
      { prefix: '44', destination: 'UK', rate: '0' },
    ]);
    // The carrier sees its provider card, R does not: refused, nothing stored.
    const upstream = await admin.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [provider],
    });
    expect(upstream.status).toBe(404);
    expect(upstream.body.error.code).toBe('not_found');
    const unchanged = await reseller.get(`/cards/${own.id}`);
    expect(unchanged.body.compareWith).toEqual([]);
    expect(unchanged.body.version).toBe(own.version);
    expect((await reseller.get(`/cards/${own.id}/margin`)).body.total).toBe(0);
    expect(await alerts(own.id)).toEqual([]);

    // A card R holds is fine, whoever sets it.
    const assigned = await admin.post('/assignments', { cardId: given, accountId: resellerId });
    expect(assigned.status).toBe(201);
    const held = await admin.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [given],
    });
    expect(held.status).toBe(200);
    expect(held.body.compareWith).toEqual([given]);
    // Not in one list with one the owner cannot see.
    const mixed = await admin.patch(`/cards/${own.id}`, {
      version: held.body.version,
      compareWith: [given, provider],
    });
    expect(mixed.status).toBe(404);
    expect((await admin.get(`/cards/${own.id}`)).body.compareWith).toEqual([given]);
    expect((await admin.del(`/assignments/${assigned.body.id}`)).status).toBe(204);
  });

  it('one level down: R cannot make its sub-reseller compare with R’s buy card', async () => {
    const assigned = await admin.post('/assignments', { cardId: given, accountId: resellerId });
    expect(assigned.status).toBe(201);
    const own = await customerCard(sub, 'Retail S', [
      { prefix: '44', destination: 'UK', rate: '0' },
    ]);
    const refused = await reseller.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [given],
    });
    expect(refused.status).toBe(404);
    expect((await sub.get(`/cards/${own.id}`)).body.compareWith).toEqual([]);
    expect((await sub.get(`/cards/${own.id}/margin`)).body.total).toBe(0);
    expect((await admin.del(`/assignments/${assigned.body.id}`)).status).toBe(204);
  });

  it('a compareWith stored before the check reports nothing the owner cannot see', async () => {
    const own = await customerCard(reseller, 'Legacy', [
      { prefix: '44', destination: 'UK', rate: '0' },
      { prefix: '49', destination: 'Germany', rate: '0' },
    ]);
    // As an edit before the owner's check let it through.
    const em = suite.orm.em.fork();
    await arrange(em, () =>
      em.execute('update card set compare_with = ?::jsonb where id = ?', [
        JSON.stringify([provider]),
        own.id,
      ]),
    );
    const report = await reseller.get(`/cards/${own.id}/margin`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ total: 0, items: [] });
    expect(JSON.stringify(report.body)).not.toContain('0.0123');
    // Nor do the provider's rate changes raise alerts on it.
    const dearer = PROVIDER.map((row) => ({ ...row, rate: '0.0900' }));
    expect((await admin.put(`/cards/${provider}/rates`, { rates: dearer })).status).toBe(200);
    expect(await alerts(own.id)).toEqual([]);
  });
});

describe('deleting a card another card compares with', () => {
  it('is refused, 409 naming the card whose margin check relies on it; nothing is deleted', async () => {
    const upstream = (
      await admin.post('/cards', { name: 'Upstream B', currency: 'EUR', kind: 'provider' })
    ).body.id as string;
    expect(
      (
        await admin.put(`/cards/${upstream}/rates`, {
          rates: [{ prefix: '44', destination: 'UK', rate: '0.0500' }],
        })
      ).status,
    ).toBe(200);
    const retail = await customerCard(admin, 'Retail B', [
      { prefix: '44', destination: 'UK', rate: '0.0400' },
    ]);
    const edited = await admin.patch(`/cards/${retail.id}`, {
      version: retail.version,
      compareWith: [upstream],
    });
    expect(edited.status).toBe(200);
    expect(await lossCount(retail.id)).toBe(1);
    const refused = await admin.del(`/cards/${upstream}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'has_dependants',
      dependants: [{ resource: 'cards', id: retail.id, name: 'Retail B' }],
    });
    expect((await admin.get(`/cards/${upstream}`)).status).toBe(200);
    expect(await lossCount(retail.id)).toBe(1);
  });
});

describe('a comparison the owner no longer holds', () => {
  it('does not keep the card it names from being deleted', async () => {
    const lent = (await admin.post('/cards', { name: 'Lent', currency: 'EUR', kind: 'customer' }))
      .body.id as string;
    expect((await admin.put(`/cards/${lent}/rates`, { rates: GIVEN })).status).toBe(200);
    const assignment = await admin.post('/assignments', { cardId: lent, accountId: resellerId });
    expect(assignment.status).toBe(201);
    const own = await customerCard(reseller, 'Own compared', [
      { prefix: '44', destination: 'UK', rate: '0.0150' },
    ]);
    const compared = await reseller.patch(`/cards/${own.id}`, {
      version: own.version,
      compareWith: [lent],
    });
    expect(compared.status).toBe(200);
    expect((await admin.del(`/assignments/${assignment.body.id}`)).status).toBe(204);
    expect((await admin.del(`/cards/${lent}`)).status).toBe(204);
  });
});

describe('a bulk assignment of a card compared with', () => {
  it('checks a card given back in a bulk, and records its alert', async () => {
    const { customerId, k } = await customerWhoBuilds('KB', 'ops@kb.test');
    const otherId = (await reseller.post('/customers', { name: 'KB other' })).body.id as string;
    const first = await customerCard(reseller, 'RB retail', GIVEN);
    const second = await customerCard(reseller, 'RB budget', GIVEN);
    expect(
      (await reseller.post('/assignments', { cardId: first.id, accountId: customerId })).status,
    ).toBe(201);
    const own = await customerCard(k, 'KB hand-built', [
      { prefix: '44', destination: 'UK', rate: '0' },
      { prefix: '49', destination: 'Germany', rate: '0.0300' },
    ]);
    expect(
      (await k.patch(`/cards/${own.id}`, { version: own.version, compareWith: [first.id] })).status,
    ).toBe(200);
    expect(await alerts(own.id)).toEqual([[1, ['44']]]);
    // Another card for KB: the one compared with is not KB's any more, its loss forgotten.
    expect(
      (await reseller.post('/assignments', { cardId: second.id, accountId: customerId })).status,
    ).toBe(201);
    expect(await lossCount(own.id)).toBe(0);
    // Given back in a bulk with another customer: checked again (once), losing again, and
    // said so — the check runs after the bulk's single writes, its alert recorded with them.
    const bulk = await reseller.post('/assignments/bulk', {
      cardId: first.id,
      accountIds: [customerId, otherId],
    });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    expect(await lossCount(own.id)).toBe(1);
    expect(await alerts(own.id)).toEqual([
      [1, ['44']],
      [1, ['44']],
    ]);
  });
});
