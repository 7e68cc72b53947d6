import { beforeAll, describe, expect, it } from 'vitest';
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
 * sending to it, run until no mail in `rowsSql` is pending; what each row became and the
 * addresses the server took.
 */
async function sendAll<T extends { status: string }>(
  rowsSql: string,
  refuse: (address: string) => boolean = () => false,
): Promise<{ rows: T[]; taken: string[] }> {
  const taken: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuse(address.address)) return callback(new Error('mailbox busy, try later'));
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        taken.push(...session.envelope.rcptTo.map((rcpt) => rcpt.address));
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
  return { rows, taken };
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

/** One mail queued by hand, tied to one of the reader's notices, created `ago` back. */
async function queueMail(subject: string, ago = '0 seconds'): Promise<void> {
  await suite.orm.em.fork().execute(
    `insert into outbox (id, notification_id, to_address, subject, body_text, status, attempts,
                        next_attempt_at, created_at)
     select gen_random_uuid(), n.id, 'ops@quiet.off.test', ?, 'Queued by hand', 'pending', 0,
            now(), now() - ?::interval
       from notification n join app_user u on u.id = n.user_id
      where u.email = 'ops@quiet.off.test' limit 1`,
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
    await suite.orm.em.fork().execute(
      // Tied to the reader's notice, as every mail is to its recipient's.
      `insert into outbox (id, notification_id, to_address, subject, body_text, status, attempts,
                          next_attempt_at, created_at)
       select gen_random_uuid(), id, 'nobody@mail.bad', 'Lost', 'Never delivered', 'pending', 0,
              now(), now()
         from notification limit 1`,
    );
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
