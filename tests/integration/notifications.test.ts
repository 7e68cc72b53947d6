import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { listenAs, type TCookieListener } from '../fixtures/cookie-listener';

/**
 * The notification centre (lib/server/services/notifications): a card assigned to a
 * reseller tells exactly that reseller's users who read cards — in their centre, live
 * over a real socket to them alone, in their catch-up, and by e-mail through the outbox
 * to a real SMTP server started here. A person sees and marks only their own notices.
 */
const ADMIN = { email: 'admin@notice.test', password: 'notice-admin-pass' };
const PASSWORD = 'notice-user-pass';

interface TMail {
  from: string;
  to: string[];
  raw: string;
}
const mails: TMail[] = [];
let smtp: SMTPServer;
const env: Record<string, string> = {
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  OUTBOX_POLL_MS: '100',
  MAIL_FROM: 'Panel <panel@notice.test>',
};

// Before the panel starts (hooks run in order): the SMTP server, and its URL in the env.
beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  env.SMTP_URL = `smtp://127.0.0.1:${port}`;
});

const suite = usePanelSuite(env);

type TListener = TCookieListener;

let admin: TApiClient;
const ids = {
  r1: '',
  r2: '',
  reader: '',
  noCards: '',
  sibling: '',
  card: '',
  resellerGroup: '',
  blindGroup: '',
};
const people = {} as Record<'reader' | 'noCards' | 'sibling' | 'colleague', TListener>;

const listen = (client: TApiClient) => listenAs(suite.server.url, client);

async function until(check: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Renames an account: once its people hear of it, anything written before has arrived. */
async function settle(accountId: string, listeners: TListener[]): Promise<void> {
  const current = (await admin.get(`/resellers/${accountId}`)).body;
  await admin.patch(`/resellers/${accountId}`, {
    version: current.version,
    name: `${current.name.replace(/ v\d+$/, '')} v${current.version + 1}`,
  });
  for (const listener of listeners) {
    await until(
      () =>
        listener.received.some(
          (e) => e.id === accountId && e.summary?.reason === 'own_account' && e.seq > 0,
        ),
      'the rename to arrive',
    );
  }
}

const notices = (listener: TListener) =>
  listener.received.filter((e) => e.type.startsWith('notifications.'));

async function makeUser(email: string, accountId: string, groupId: string): Promise<string> {
  const made = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
  expect(made.status).toBe(201);
  return made.body.id;
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const reseller = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  // Everything but cards: its users are not told of a card.
  const blind = (
    await admin.post('/groups', {
      name: 'No cards',
      grants: ['resellers:read', 'customers:read', 'users:read'],
    })
  ).body.id;
  ids.resellerGroup = reseller;
  ids.blindGroup = blind;
  ids.r1 = (await admin.post('/resellers', { name: 'Nimbus', email: 'r1@notice.test' })).body.id;
  ids.r2 = (await admin.post('/resellers', { name: 'Sibling', email: 'r2@notice.test' })).body.id;
  ids.reader = await makeUser('reader@r1.notice.test', ids.r1, reseller);
  ids.noCards = await makeUser('blind@r1.notice.test', ids.r1, blind);
  ids.sibling = await makeUser('ops@r2.notice.test', ids.r2, reseller);
  await makeUser('colleague@r1.notice.test', ids.r1, reseller);
  const sign = (email: string) => apiClient(suite.server.url, email, PASSWORD);
  people.reader = await listen(await sign('reader@r1.notice.test'));
  people.noCards = await listen(await sign('blind@r1.notice.test'));
  people.sibling = await listen(await sign('ops@r2.notice.test'));
  people.colleague = await listen(await sign('colleague@r1.notice.test'));
  const card = await admin.post('/cards', { name: 'Retail', currency: 'EUR', kind: 'customer' });
  expect(card.status).toBe(201);
  ids.card = card.body.id;
});

afterAll(async () => {
  for (const listener of Object.values(people)) listener.socket?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

describe('notification centre', () => {
  let noticeId = '';
  let noticeSeq = 0;

  it('tells exactly the assigned account’s users who read cards, live, to them alone', async () => {
    const assigned = await admin.post('/assignments', { cardId: ids.card, accountId: ids.r1 });
    expect(assigned.status).toBe(201);
    await until(() => notices(people.reader).length > 0, 'the reader to be told');
    const live = notices(people.reader)[0]!;
    expect(live).toMatchObject({
      type: 'notifications.created',
      data: {
        kind: 'card.assigned',
        title: 'Card Retail assigned to your account',
        link: `/cards/${ids.card}`,
        readAt: null,
      },
    });
    noticeId = live.id;
    noticeSeq = live.seq;
    await until(() => notices(people.colleague).length > 0, 'the colleague to be told');
    // Each person gets their own notice, never another's.
    expect(notices(people.colleague)[0]!.id).not.toBe(noticeId);
    expect(notices(people.reader)).toHaveLength(1);
    // The user without cards:read and the sibling reseller's user: nothing.
    await settle(ids.r1, [people.noCards]);
    await settle(ids.r2, [people.sibling]);
    expect(notices(people.noCards)).toEqual([]);
    expect(notices(people.sibling)).toEqual([]);
  });

  it('is in each recipient’s centre and catch-up only', async () => {
    const mine = await people.reader.client.get('/notifications');
    expect(mine.status).toBe(200);
    expect(mine.body.unread).toBe(1);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ id: noticeId, kind: 'card.assigned' });
    for (const other of [people.noCards, people.sibling]) {
      const theirs = await other.client.get('/notifications');
      expect(theirs.body).toMatchObject({ items: [], unread: 0 });
    }
    expect((await admin.get('/notifications')).body).toMatchObject({ items: [], unread: 0 });
    // A socket away at that moment gets it back from catch-up, and nobody else does.
    const caughtUp = await people.reader.client.get(`/events?since=${noticeSeq - 1}`);
    expect(caughtUp.body.items.map((e: TChangeEnvelope) => e.id)).toContain(noticeId);
    const blind = await people.noCards.client.get(`/events?since=${noticeSeq - 1}`);
    expect(
      blind.body.items.filter((e: TChangeEnvelope) => e.type.startsWith('notifications.')),
    ).toEqual([]);
    const colleague = await people.colleague.client.get(`/events?since=${noticeSeq - 1}`);
    expect(colleague.body.items.map((e: TChangeEnvelope) => e.id)).not.toContain(noticeId);
    // Never in anyone's audit trail.
    const audit = await admin.get('/audit?limit=500');
    expect(audit.body.items.map((e: { resource: string }) => e.resource)).not.toContain(
      'notifications',
    );
  });

  it('mails each recipient through the outbox', async () => {
    await until(
      () => mails.filter((m) => m.to.includes('reader@r1.notice.test')).length > 0,
      'the reader’s mail',
    );
    await until(
      () => mails.filter((m) => m.to.includes('colleague@r1.notice.test')).length > 0,
      'the colleague’s mail',
    );
    const mail = mails.find((m) => m.to.includes('reader@r1.notice.test'))!;
    expect(mail.from).toBe('panel@notice.test');
    // No brand on the reader's path: the configured sender as it is.
    expect(mail.raw).toMatch(/^From: Panel <panel@notice\.test>\r?$/m);
    expect(mail.raw).toMatch(/^Subject: Card Retail assigned to your account\r?$/m);
    expect(mail.raw).toContain(`${suite.server.url}/cards/${ids.card}`);
    const recipients = mails.flatMap((m) => m.to);
    expect(recipients).not.toContain('blind@r1.notice.test');
    expect(recipients).not.toContain('ops@r2.notice.test');
    // Marked sent once the server took it: one row per recipient, each sent once.
    const outbox = () =>
      suite.orm.em
        .fork()
        .execute<{ to_address: string; status: string; attempts: number }[]>(
          `select to_address, status, attempts from outbox order by to_address`,
        );
    let rows = await outbox();
    while (rows.some((row) => row.status !== 'sent')) rows = await outbox();
    expect(rows).toEqual([
      { to_address: 'colleague@r1.notice.test', status: 'sent', attempts: 1 },
      { to_address: 'reader@r1.notice.test', status: 'sent', attempts: 1 },
    ]);
  });

  it('marks only the caller’s own notices read', async () => {
    // Another person's id: 404, and it stays unread.
    const foreign = await people.sibling.client.post('/notifications/read', { ids: [noticeId] });
    expect(foreign.status).toBe(404);
    const colleagueOwn = notices(people.colleague)[0]!.id;
    const mixed = await people.reader.client.post('/notifications/read', {
      ids: [noticeId, colleagueOwn],
    });
    expect(mixed.status).toBe(404);
    expect((await people.reader.client.get('/notifications')).body.unread).toBe(1);
    expect((await people.colleague.client.get('/notifications')).body.unread).toBe(1);
    // Bad input names the field.
    const bad = await people.reader.client.post('/notifications/read', { ids: ['nope'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty(['ids.0']);
    const empty = await people.reader.client.post('/notifications/read', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.fields).toHaveProperty('ids');
    // One's own: marked, and one's other tabs hear of it.
    const marked = await people.reader.client.post('/notifications/read', { ids: [noticeId] });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ marked: 1, unread: 0 });
    await until(
      () => people.reader.received.some((e) => e.type === 'notifications.updated'),
      'the read mark to arrive live',
    );
    const after = (await people.reader.client.get('/notifications')).body;
    expect(after.unread).toBe(0);
    expect(after.items[0].readAt).not.toBeNull();
    // The colleague's stays unread, and they heard nothing of the reader's mark.
    expect((await people.colleague.client.get('/notifications')).body.unread).toBe(1);
    expect(people.colleague.received.some((e) => e.type === 'notifications.updated')).toBe(false);
    const all = await people.colleague.client.post('/notifications/read', { all: true });
    expect(all.body).toEqual({ marked: 1, unread: 0 });
  });

  it('shows the viewed user’s notices during a view-as, read-only', async () => {
    const assigned = await admin.post('/assignments/bulk', {
      cardId: (await admin.post('/cards', { name: 'Wholesale', currency: 'EUR', kind: 'customer' }))
        .body.id,
      accountIds: [ids.r1, ids.r2],
    });
    expect(assigned.status).toBe(200);
    // Bulk tells each account's own people: the sibling now has one of its own.
    await until(() => notices(people.sibling).length > 0, 'the sibling to be told');
    expect(notices(people.sibling)[0]!.data).toMatchObject({
      title: 'Card Wholesale assigned to your account',
    });
    // Newest first, page by page.
    const first = (await people.reader.client.get('/notifications?limit=1')).body;
    expect(first.items.map((n: { title: string }) => n.title)).toEqual([
      'Card Wholesale assigned to your account',
    ]);
    const second = (
      await people.reader.client.get(`/notifications?limit=1&cursor=${first.nextCursor}`)
    ).body;
    expect(second.items.map((n: { title: string }) => n.title)).toEqual([
      'Card Retail assigned to your account',
    ]);
    expect(second.nextCursor).toBeNull();
    const unreadOnly = (await people.reader.client.get('/notifications?unread=true')).body;
    expect(unreadOnly.items).toHaveLength(1);
    const carrierName = (await admin.get('/me')).body.account.name as string;
    const started = await admin.post('/impersonation', { userId: ids.reader, reason: 'support' });
    expect(started.status).toBe(201);
    const viewed = await admin.get('/notifications');
    // The person viewed is told of the view itself, first (impersonation.test.ts).
    expect(viewed.body.unread).toBe(2);
    expect(viewed.body.items.map((n: { title: string }) => n.title)).toEqual([
      `${carrierName} is viewing the panel as you`,
      'Card Wholesale assigned to your account',
      'Card Retail assigned to your account',
    ]);
    const refused = await admin.post('/notifications/read', { all: true });
    expect(refused.status).toBe(403);
    expect((await people.reader.client.get('/notifications')).body.unread).toBe(2);
    expect((await admin.del('/impersonation')).status).toBe(204);
  });

  it('hides a notice from a person who no longer reads its subject, and shows it again', async () => {
    // A reader of cards told of a card; then moved to a group without cards:read. (An
    // account of its own: the others' people are counted by the tests after this one.)
    const r3 = (await admin.post('/resellers', { name: 'Mover', email: 'r3@notice.test' })).body
      .id as string;
    const moverId = await makeUser('mover@r3.notice.test', r3, ids.resellerGroup);
    const mover = await apiClient(suite.server.url, 'mover@r3.notice.test', PASSWORD);
    const card = await admin.post('/cards', {
      name: 'Narrowed',
      currency: 'EUR',
      kind: 'customer',
    });
    expect((await admin.post('/assignments', { cardId: card.body.id, accountId: r3 })).status).toBe(
      201,
    );
    const told = (await mover.get('/notifications')).body;
    expect(told.unread).toBe(1);
    expect(told.items.map((n: { title: string }) => n.title)).toEqual([
      'Card Narrowed assigned to your account',
    ]);
    const noticeOfCard = told.items[0].id as string;
    const regroup = async (groupId: string) => {
      const user = (await admin.get(`/users/${moverId}`)).body;
      expect(
        (await admin.patch(`/users/${moverId}`, { version: user.version, groupId })).status,
      ).toBe(200);
    };
    await regroup(ids.blindGroup);
    // The card is 403 to it now, and so is what the notice told of it.
    expect((await mover.get(`/cards/${card.body.id}`)).status).toBe(403);
    expect((await mover.get('/notifications')).body).toEqual({
      items: [],
      nextCursor: null,
      unread: 0,
    });
    expect((await mover.get('/notifications?unread=true')).body.items).toEqual([]);
    // Nor can it be marked: as another person's, 404 and nothing marked.
    expect((await mover.post('/notifications/read', { ids: [noticeOfCard] })).status).toBe(404);
    expect((await mover.post('/notifications/read', { all: true })).body).toEqual({
      marked: 0,
      unread: 0,
    });
    // Given cards:read back, the notice is there again, still unread.
    await regroup(ids.resellerGroup);
    const back = (await mover.get('/notifications')).body;
    expect(back.unread).toBe(1);
    expect(back.items.map((n: { id: string; readAt: string | null }) => [n.id, n.readAt])).toEqual([
      [noticeOfCard, null],
    ]);
  });

  it('goes with its person: deleting a user deletes their notices, their mail stays', async () => {
    const colleague = (await admin.get('/users?q=colleague%40r1')).body.items[0];
    expect((await admin.del(`/users/${colleague.id}`)).status).toBe(204);
    const em = suite.orm.em.fork();
    const left = await em.execute<{ n: string }[]>(
      'select count(*) as n from notification where user_id = ?',
      [colleague.id],
    );
    expect(Number(left[0]!.n)).toBe(0);
    // Its two mails (Retail, Wholesale) stay in the outbox, no longer tied to a notice.
    const mail = await em.execute<{ notification_id: string | null }[]>(
      `select notification_id from outbox where to_address = 'colleague@r1.notice.test'`,
    );
    expect(mail).toEqual([{ notification_id: null }, { notification_id: null }]);
  });

  it('mails in the name of the brand the recipient works in, from the panel’s address', async () => {
    const brand = await admin.put(`/accounts/${ids.r1}/brand`, {
      displayName: 'R1 Voice',
      primaryColor: '#1d4ed8',
      accentColor: '#0369a1',
      hostnames: [],
    });
    expect(brand.status).toBe(201);
    const card = await admin.post('/cards', { name: 'Branded', currency: 'EUR', kind: 'customer' });
    expect(card.status).toBe(201);
    const assigned = await admin.post('/assignments', { cardId: card.body.id, accountId: ids.r1 });
    expect(assigned.status).toBe(201);
    const branded = () =>
      mails.find((m) => m.to.includes('reader@r1.notice.test') && m.raw.includes('Branded'));
    await until(() => Boolean(branded()), 'the mail about the branded card');
    expect(branded()!.from).toBe('panel@notice.test');
    expect(branded()!.raw).toMatch(/^From: R1 Voice <panel@notice\.test>\r?$/m);
    expect(branded()!.raw).not.toMatch(/^From: Panel/m);
    // No hostname on the brand yet: the link is the panel's own. (The body is
    // quoted-printable: its soft line breaks are undone.)
    const body = (raw: string) => raw.replace(/=\r?\n/g, '');
    const panel = new URL(suite.server.url);
    expect(body(branded()!.raw)).toContain(`${panel.origin}/cards/${card.body.id}`);

    // With a hostname, the link opens on the portal the recipient signs in at (the
    // panel's scheme and port): a portal's people are never sent to the carrier's domain.
    const portal = await admin.put(`/accounts/${ids.r1}/brand`, {
      version: brand.body.version,
      displayName: 'R1 Voice',
      primaryColor: '#1d4ed8',
      accentColor: '#0369a1',
      hostnames: ['portal.r1.notice.test'],
    });
    expect(portal.status).toBe(200);
    const other = await admin.post('/cards', { name: 'Portal', currency: 'EUR', kind: 'customer' });
    expect(other.status).toBe(201);
    expect(
      (await admin.post('/assignments', { cardId: other.body.id, accountId: ids.r1 })).status,
    ).toBe(201);
    const linked = () =>
      mails.find((m) => m.to.includes('reader@r1.notice.test') && m.raw.includes('Portal'));
    await until(() => Boolean(linked()), 'the mail about the card on the portal');
    const portalUrl = `${panel.protocol}//portal.r1.notice.test${panel.port ? `:${panel.port}` : ''}`;
    expect(body(linked()!.raw)).toContain(`${portalUrl}/cards/${other.body.id}`);
    expect(body(linked()!.raw)).not.toContain(panel.host);
  });
});
