import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { mailSettingsOf } from '@/lib/server/services/notifications/mail-settings';
import { OutboxWorker } from '@/lib/server/services/notifications/outbox-worker';

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
    const taken: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const left = refusals.get(address.address) ?? (address.address.endsWith('.bad') ? 99 : 0);
        if (left > 0) {
          refusals.set(address.address, left - 1);
          return callback(new Error('mailbox busy, try later'));
        }
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
    await suite.orm.em.fork().execute(
      `insert into outbox (id, to_address, subject, body_text, status, attempts, next_attempt_at, created_at)
       values (gen_random_uuid(), 'nobody@mail.bad', 'Lost', 'Never delivered', 'pending', 0, now(), now())`,
    );
    const worker = new OutboxWorker(
      suite.orm,
      { transport: `smtp://127.0.0.1:${port}`, from: 'panel@off.test' },
      suite.server.url,
      { pollMs: 50, maxAttempts: 3, backoffMs: () => 0 },
    );
    worker.start();
    const read = () =>
      suite.orm.em
        .fork()
        .execute<{ to_address: string; status: string; attempts: number }[]>(
          'select to_address, status, attempts from outbox order by to_address',
        );
    let rows = await read();
    while (rows.some((row) => row.status === 'pending')) rows = await read();
    await worker.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    expect(rows).toEqual([
      { to_address: 'nobody@mail.bad', status: 'failed', attempts: 3 },
      { to_address: 'ops@quiet.off.test', status: 'sent', attempts: 2 },
    ]);
    expect(taken).toEqual(['ops@quiet.off.test']);
  });
});
