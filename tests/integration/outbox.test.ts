import { beforeAll, describe, expect, it } from 'vitest';
import { resolveActor, type TActor } from '@/lib/server/authz/actor';
import { User } from '@/lib/server/entities';
import { recordMovement } from '@/lib/server/services/ledger/record-payment';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { mailSettingsOf } from '@/lib/server/services/notifications/mail-settings';
import {
  NOT_SENT_GONE,
  NOT_SENT_STALE,
  NOT_SENT_UNREADABLE,
  OutboxWorker,
} from '@/lib/server/services/notifications/outbox-worker';

/**
 * Without SMTP settings mail delivery is off: notices are still written and mail is
 * queued, and it waits, pending — nothing fails, nothing is dropped.
 */
const ADMIN = { email: 'admin@outbox-off.test', password: 'outbox-off-admin-pass' };
const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  // Were a worker running, it would look every 100 ms.
  OUTBOX_POLL_MS: '100',
});

let admin: TApiClient;
let reader: TApiClient;
let resellerId = '';

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  resellerId = (await admin.post('/resellers', { name: 'Quiet', email: 'q@off.test' })).body.id;
  await admin.post('/users', {
    email: 'ops@quiet.off.test',
    password: 'outbox-off-user-pass',
    accountId: resellerId,
    groupId: group,
  });
  reader = await apiClient(suite.server.url, 'ops@quiet.off.test', 'outbox-off-user-pass');
});

/**
 * A real SMTP server (refusing an address while `refuse` says so) and an outbox worker
 * sending to it, run until no mail in `rowsSql` is pending; what each row became, the
 * addresses the server took and each mail's text (soft line breaks undone).
 */
async function sendAll<T extends { status: string }>(
  rowsSql: string,
  refuse: (address: string) => boolean = () => false,
): Promise<{ rows: T[]; taken: string[]; texts: string[] }> {
  const taken: string[] = [];
  const texts: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuse(address.address)) return callback(new Error('mailbox busy, try later'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        taken.push(...session.envelope.rcptTo.map((rcpt) => rcpt.address));
        texts.push(
          Buffer.concat(chunks)
            .toString('utf8')
            .replace(/=\r?\n/g, ''),
        );
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  const worker = new OutboxWorker(
    suite.orm,
    { transport: `smtp://127.0.0.1:${port}`, from: 'panel@off.test' },
    suite.server.url,
    { pollMs: 50, maxAttempts: 3, backoffMs: () => 0 },
  );
  worker.start();
  const read = () => suite.orm.em.fork().execute<T[]>(rowsSql);
  let rows = await read();
  while (rows.some((row) => row.status === 'pending')) rows = await read();
  await worker.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  return { rows, taken, texts };
}

/**
 * Users of the reader's group (the reader's reseller), then a card assigned to the
 * reseller: a notice, and its mail, queued for each of them and the reader. Their ids.
 */
async function queuedFor(emails: string[], cardName: string): Promise<Record<string, string>> {
  const group = (await reader.get('/me')).body.group.id as string;
  const made: Record<string, string> = {};
  for (const email of emails) {
    const user = await admin.post('/users', {
      email,
      password: 'outbox-off-user-pass',
      accountId: resellerId,
      groupId: group,
    });
    expect(user.status).toBe(201);
    made[email] = user.body.id;
  }
  const card = await admin.post('/cards', { name: cardName, currency: 'EUR', kind: 'customer' });
  expect(
    (await admin.post('/assignments', { cardId: card.body.id, accountId: resellerId })).status,
  ).toBe(201);
  return made;
}

/** A user of `accountId` in the reader's group (it reads cards), signed in. */
async function personOf(email: string, accountId: string): Promise<TApiClient> {
  const made = await admin.post('/users', {
    email,
    password: 'outbox-off-user-pass',
    accountId,
    groupId: (await reader.get('/me')).body.group.id,
  });
  expect(made.status).toBe(201);
  return apiClient(suite.server.url, email, 'outbox-off-user-pass');
}

/** One mail queued by hand, tied to one of the reader's card notices, created `ago` back. */
async function queueMail(subject: string, ago = '0 seconds'): Promise<void> {
  await suite.orm.em.fork().execute(
    `insert into outbox (id, notification_id, to_address, subject, body_text, status, attempts,
                        next_attempt_at, created_at)
     select gen_random_uuid(), n.id, 'ops@quiet.off.test', ?, 'Queued by hand', 'pending', 0,
            now(), now() - ?::interval
       from notification n join app_user u on u.id = n.user_id
      where u.email = 'ops@quiet.off.test' and n.kind = 'card.assigned' limit 1`,
    [subject, ago],
  );
}

describe('mail delivery off', () => {
  it('is off without SMTP_URL or SMTP_HOST', () => {
    expect(mailSettingsOf({}, 'http://panel.test')).toBeNull();
    expect(mailSettingsOf({ SMTP_URL: 'smtp://mail.test:25' }, 'http://panel.test')).toEqual({
      transport: 'smtp://mail.test:25',
      from: 'Reseller Panel <no-reply@panel.test>',
    });
    expect(
      mailSettingsOf(
        { SMTP_HOST: 'mail.test', SMTP_PORT: 465, SMTP_USER: 'u', SMTP_PASSWORD: 'p' },
        'http://panel.test',
      )?.transport,
    ).toEqual({ host: 'mail.test', port: 465, secure: true, auth: { user: 'u', pass: 'p' } });
  });

  it('keeps the notice and its mail, pending', async () => {
    const card = await admin.post('/cards', { name: 'Quiet', currency: 'EUR', kind: 'customer' });
    const assigned = await admin.post('/assignments', {
      cardId: card.body.id,
      accountId: resellerId,
    });
    expect(assigned.status).toBe(201);
    expect((await reader.get('/notifications')).body.unread).toBe(1);
    // Many poll periods later, the mail is still there, untouched.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rows = await suite.orm.em
      .fork()
      .execute<{ to_address: string; status: string; attempts: number }[]>(
        'select to_address, status, attempts from outbox',
      );
    expect(rows).toEqual([{ to_address: 'ops@quiet.off.test', status: 'pending', attempts: 0 }]);
    expect((await admin.get('/me')).status).toBe(200);
  });

  it('is sent once a server is there: a refusal is retried, the last one marks it failed', async () => {
    // The reader's address is refused once, then taken; another is always refused.
    const refusals = new Map<string, number>([['ops@quiet.off.test', 1]]);
    // A person whose mailbox never takes mail, told of a card of their own reseller.
    const bad = (await admin.post('/resellers', { name: 'Bad', email: 'b@mail.bad' })).body.id;
    await personOf('nobody@mail.bad', bad);
    const lost = await admin.post('/cards', { name: 'Lost', currency: 'EUR', kind: 'customer' });
    expect(
      (await admin.post('/assignments', { cardId: lost.body.id, accountId: bad })).status,
    ).toBe(201);
    const { rows, taken } = await sendAll<{ to_address: string; status: string; attempts: number }>(
      'select to_address, status, attempts from outbox order by to_address',
      (address) => {
        const left = refusals.get(address) ?? (address.endsWith('.bad') ? 99 : 0);
        refusals.set(address, left - 1);
        return left > 0;
      },
    );
    expect(rows).toEqual([
      { to_address: 'nobody@mail.bad', status: 'failed', attempts: 3 },
      { to_address: 'ops@quiet.off.test', status: 'sent', attempts: 2 },
    ]);
    expect(taken).toEqual(['ops@quiet.off.test']);
  });

  it('is not sent to a person disabled or removed since it was queued', async () => {
    const people = ['stays', 'disabled', 'removed'].map((name) => `${name}@quiet.off.test`);
    const made = await queuedFor(people, 'Later');
    // Queued for all four people; then two of them go.
    const disabled = (await admin.get(`/users/${made['disabled@quiet.off.test']}`)).body;
    expect(
      (
        await admin.patch(`/users/${disabled.id}`, {
          version: disabled.version,
          status: 'disabled',
        })
      ).status,
    ).toBe(200);
    expect((await admin.del(`/users/${made['removed@quiet.off.test']}`)).status).toBe(204);

    const { rows, taken } = await sendAll<{
      to_address: string;
      status: string;
      last_error: string | null;
    }>(
      `select to_address, status, last_error from outbox where subject like '%Later%'
        order by to_address`,
    );
    expect(rows).toEqual([
      { to_address: 'disabled@quiet.off.test', status: 'failed', last_error: NOT_SENT_GONE },
      { to_address: 'ops@quiet.off.test', status: 'sent', last_error: null },
      { to_address: 'removed@quiet.off.test', status: 'failed', last_error: NOT_SENT_GONE },
      { to_address: 'stays@quiet.off.test', status: 'sent', last_error: null },
    ]);
    expect(taken.sort()).toEqual(['ops@quiet.off.test', 'stays@quiet.off.test']);
  });
});

describe('a mail whose recipient may no longer read what it tells of', () => {
  it('is not sent: its recipient moved to a group without the grant since', async () => {
    const blind = (
      await admin.post('/groups', { name: 'Blind to cards', grants: ['customers:read'] })
    ).body.id as string;
    const made = await queuedFor(['narrowed@quiet.off.test', 'kept@quiet.off.test'], 'Narrow');
    // Queued for each reader of cards; then one of them loses cards:read.
    const narrowed = (await admin.get(`/users/${made['narrowed@quiet.off.test']}`)).body;
    const moved = await admin.patch(`/users/${narrowed.id}`, {
      version: narrowed.version,
      groupId: blind,
    });
    expect(moved.status).toBe(200);

    const { rows, taken } = await sendAll<{
      to_address: string;
      status: string;
      last_error: string | null;
    }>(
      `select to_address, status, last_error from outbox where subject like '%Narrow%'
        order by to_address`,
    );
    expect(rows).toEqual([
      { to_address: 'kept@quiet.off.test', status: 'sent', last_error: null },
      { to_address: 'narrowed@quiet.off.test', status: 'failed', last_error: NOT_SENT_UNREADABLE },
      { to_address: 'ops@quiet.off.test', status: 'sent', last_error: null },
      { to_address: 'stays@quiet.off.test', status: 'sent', last_error: null },
    ]);
    expect(taken.sort()).toEqual([
      'kept@quiet.off.test',
      'ops@quiet.off.test',
      'stays@quiet.off.test',
    ]);
  });

  it('is not sent once older than a week', async () => {
    await queueMail('Old news', '8 days');
    const { rows, taken } = await sendAll<{ status: string; last_error: string | null }>(
      `select status, last_error from outbox where subject = 'Old news'`,
    );
    expect([rows, taken]).toEqual([[{ status: 'failed', last_error: NOT_SENT_STALE }], []]);
  });
});

describe('a mail goes to its person as they are when it is sent', () => {
  it('at their address now: one corrected since it was queued (a typo) is not written to', async () => {
    const made = await queuedFor(['typo@other-company.test'], 'Corrected');
    const user = (await admin.get(`/users/${made['typo@other-company.test']}`)).body;
    const fixed = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      email: 'fixed@quiet.off.test',
    });
    expect(fixed.status).toBe(200);
    const { taken } = await sendAll(`select status from outbox where subject like '%Corrected%'`);
    expect(taken).toContain('fixed@quiet.off.test');
    expect(taken).not.toContain('typo@other-company.test');
  });

  it('not once the account it tells of moved out of their part of the tree', async () => {
    const em = suite.orm.em.fork();
    const actor = (await resolveActor(em, {
      userId: (await em.findOneOrFail(User, { email: ADMIN.email })).id,
      sessionVersion: (await em.findOneOrFail(User, { email: ADMIN.email })).sessionVersion,
    })) as TActor;
    const mover = await admin.post('/customers', {
      name: 'Mover',
      parentId: resellerId,
      creditLimit: '10',
    });
    expect(mover.status).toBe(201);
    const current = (await admin.get(`/customers/${mover.body.id}`)).body;
    expect(
      (
        await admin.patch(`/customers/${mover.body.id}`, {
          version: current.version,
          warningThreshold: '5',
        })
      ).status,
    ).toBe(200);
    // Its crossing queues mail for its reseller's people; then it moves to another.
    await recordMovement(suite.orm.em.fork(), actor, mover.body.id, {
      kind: 'usage',
      amount: '-6',
    });
    const other = (await admin.post('/resellers', { name: 'Other', email: 'o@off.test' })).body.id;
    const otherOps = await personOf('ops@other.off.test', other);
    const card = await otherOps.post('/cards', {
      name: 'Other Retail',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(card.status).toBe(201);
    const moved = await admin.post(`/customers/${mover.body.id}/transfer`, {
      toParentId: other,
      cardId: card.body.id,
      idempotencyKey: 'outbox-mover',
    });
    expect(moved.status).toBe(200);
    const { rows, taken } = await sendAll<{ to_address: string; status: string }>(
      `select to_address, status, last_error from outbox where subject = 'Mover is low on credit'
        order by to_address`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.status === 'failed')).toBe(true);
    expect(rows).toContainEqual({
      to_address: 'ops@quiet.off.test',
      status: 'failed',
      last_error: NOT_SENT_UNREADABLE,
    });
    expect(taken).toEqual([]);
  });

  it('with its link on the portal they sign in at: an ancestor’s when their brand has no hostname', async () => {
    const top = (await admin.post('/resellers', { name: 'White Label', email: 'wl@off.test' })).body
      .id as string;
    const sub = (
      await admin.post('/resellers', { name: 'WL Sub', email: 'sub@off.test', parentId: top })
    ).body.id as string;
    const brand = (hostnames: string[], displayName: string) => ({
      displayName,
      primaryColor: '#1d4ed8',
      accentColor: '#0369a1',
      hostnames,
    });
    expect(
      (await admin.put(`/accounts/${top}/brand`, brand(['portal.wl.off.test'], 'WL Voice'))).status,
    ).toBe(201);
    // The sub-reseller has a name of its own, no hostname: its people use its parent's portal.
    expect((await admin.put(`/accounts/${sub}/brand`, brand([], 'Sub Voice'))).status).toBe(201);
    // One of its people, and one of its parent's, who gives it a card of its own.
    await personOf('ops@sub.off.test', sub);
    const parent = await personOf('ops@wl.off.test', top);
    const card = await parent.post('/cards', {
      name: 'Sub Card',
      currency: 'EUR',
      kind: 'customer',
    });
    expect(
      (await parent.post('/assignments', { cardId: card.body.id, accountId: sub })).status,
    ).toBe(201);
    const { texts } = await sendAll(`select status from outbox where subject like '%Sub Card%'`);
    const panel = new URL(suite.server.url);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(`From: Sub Voice`);
    expect(texts[0]).toContain(
      `${panel.protocol}//portal.wl.off.test:${panel.port}/cards/${card.body.id}`,
    );
  });
});

describe('a send that outlives its claim', () => {
  it('never puts back a mail another process sent meanwhile', async () => {
    // One mail, queued for the reader; nothing else pending.
    await suite.orm.em.fork().execute(`update outbox set status = 'sent' where status = 'pending'`);
    await queueMail('Stalled');
    // A: its server holds the recipient past A's lease, then refuses it.
    let stalled!: () => void;
    const reached = new Promise<void>((resolve) => (stalled = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const slow = new SMTPServer({
      // Closing does not wait for a connection A left open.
      closeTimeout: 500,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        stalled();
        void answered.then(() => callback(new Error('mailbox busy, try later')));
      },
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowPort = (slow.server.address() as AddressInfo).port;
    const a = new OutboxWorker(
      suite.orm,
      { transport: `smtp://127.0.0.1:${slowPort}`, from: 'panel@off.test' },
      suite.server.url,
      // A lease of 200 ms, waits of half a minute: the send outlives its claim.
      { pollMs: 60_000, maxAttempts: 5, backoffMs: () => 0, leaseMs: 200, sendTimeoutMs: 30_000 },
    );
    a.nudge();
    let stopping: Promise<void> | undefined;
    const stopA = () => (stopping ??= a.stop());
    try {
      await reached;
      await new Promise((resolve) => setTimeout(resolve, 400));
      // B claims it once A's lease has run out, sends it and marks it sent.
      const { rows, taken } = await sendAll<{ status: string; attempts: number }>(
        `select status, attempts from outbox where subject = 'Stalled'`,
      );
      expect([rows, taken]).toEqual([[{ status: 'sent', attempts: 2 }], ['ops@quiet.off.test']]);
      // Then A hears its refusal: the row stays sent, and nothing is sent again.
      answer();
      await stopA();
      const after = await suite.orm.em
        .fork()
        .execute<{ status: string; attempts: number }[]>(
          `select status, attempts from outbox where subject = 'Stalled'`,
        );
      expect(after).toEqual([{ status: 'sent', attempts: 2 }]);
    } finally {
      answer();
      await stopA();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});

describe('a mail server that stops answering', () => {
  it('does not hold a stop: the send under way is left to its lease', async () => {
    await suite.orm.em.fork().execute(`update outbox set status = 'sent' where status = 'pending'`);
    await queueMail('Hung');
    // Takes the connection and never greets.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const worker = new OutboxWorker(
      suite.orm,
      { transport: `smtp://127.0.0.1:${port}`, from: 'panel@off.test' },
      suite.server.url,
      { pollMs: 60_000, sendTimeoutMs: 60_000, stopWaitMs: 100 },
    );
    try {
      worker.nudge();
      const read = () =>
        suite.orm.em
          .fork()
          .execute<{ status: string; attempts: number }[]>(
            `select status, attempts from outbox where subject = 'Hung'`,
          );
      while (!held.length || (await read())[0]?.attempts !== 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The mail server has not said a word: the send would wait its minute.
      await worker.stop();
      expect(await read()).toEqual([{ status: 'pending', attempts: 1 }]);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 20_000);

  it('fails the send within the send timeout, a URL-configured server too', async () => {
    await suite.orm.em.fork().execute(`update outbox set status = 'sent' where status = 'pending'`);
    await queueMail('Silence');
    const mute = new SMTPServer({
      closeTimeout: 500,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Never answers the recipient.
      onRcptTo() {},
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const { port } = mute.server.address() as AddressInfo;
    const worker = new OutboxWorker(
      suite.orm,
      { transport: `smtp://127.0.0.1:${port}`, from: 'panel@off.test' },
      suite.server.url,
      { pollMs: 60_000, maxAttempts: 1, backoffMs: () => 0, sendTimeoutMs: 300 },
    );
    try {
      worker.nudge();
      const read = () =>
        suite.orm.em
          .fork()
          .execute<{ status: string; last_error: string | null }[]>(
            `select status, last_error from outbox where subject = 'Silence'`,
          );
      let rows = await read();
      while (rows[0]?.status === 'pending') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        rows = await read();
      }
      expect(rows).toEqual([{ status: 'failed', last_error: expect.stringMatching(/timeout/i) }]);
    } finally {
      await worker.stop();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  }, 20_000);
});
