import { request } from 'node:http';
import * as OTPAuth from 'otpauth';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { claimLoginAttempt } from '@/lib/server/auth/throttle';

/**
 * The throttle under concurrency: a burst must get exactly the real password checks a
 * sequential attacker gets. A 401 is a refusal after a real check; a 429 is a refusal
 * before any check. The delay after the free failures (60 s) outlasts every burst here,
 * so the counts do not depend on how fast the machine is.
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'throttle-user-password';
const FREE = 3;
const IP_BUDGET = 8;
const ACCOUNT_BUDGET = 6;
const LOCK_SECONDS = 600;
const KNOWN_DAYS = 30;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  LOGIN_FREE_FAILURES: String(FREE),
  LOGIN_LOCK_FAILURES: '5',
  LOGIN_BASE_DELAY_MS: '60000',
  LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
  LOGIN_IP_FAILURES: String(IP_BUDGET),
  LOGIN_IP_WINDOW_SECONDS: '600',
  LOGIN_ACCOUNT_FAILURES: String(ACCOUNT_BUDGET),
  LOGIN_ACCOUNT_WINDOW_SECONDS: '600',
  LOGIN_KNOWN_ADDRESS_DAYS: String(KNOWN_DAYS),
});

let admin: TApiClient;
let groupId: string;
let accountId: string;

const sql = (query: string, params: unknown[] = []) =>
  suite.orm.em.fork().execute<Record<string, unknown>[]>(query, params);

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  groupId = (await admin.post('/groups', { name: 'Ops', grants: ['customers:read'] })).body.id;
  accountId = (await admin.get('/me')).body.account.id;
});

// Every request here comes from 127.0.0.1: each test starts with that IP's budget unspent.
beforeEach(async () => {
  await sql('delete from login_ip_throttle');
});

async function newUser(email: string) {
  const response = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { id: string };
}

const issue = (email: string, password: string) => requestToken(suite.server.url, email, password);

/** Tallies answers by status; every 429 must carry the throttle's body and Retry-After. */
function tally(answers: { status: number; headers: Headers; body: unknown }[]) {
  const counts: Record<number, number> = {};
  for (const answer of answers) {
    counts[answer.status] = (counts[answer.status] ?? 0) + 1;
    if (answer.status === 429) {
      expect(answer.body).toMatchObject({ error: { code: 'throttled' } });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  }
  return counts;
}

/** Guesses one after another, each waiting for the last, until the first 429. */
async function sequentialChecks(guess: (n: number) => Promise<{ status: number }>) {
  let checks = 0;
  for (let n = 0; n < 20; n += 1) {
    const { status } = await guess(n);
    if (status === 429) return checks;
    checks += 1;
  }
  return checks;
}

/** `POST /auth/token` sent from another loopback address: another client IP. */
function issueFrom(
  localAddress: string,
  email: string,
  password: string,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify({ email, password, name: 'script' });
  const url = new URL('/api/v1/auth/token', suite.server.url);
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('sign-in throttle per (email, IP) under a burst', () => {
  it('lets a burst of wrong passwords run exactly the checks a sequential attacker gets', async () => {
    await newUser('burst@carrier.test');
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, n) => issue('burst@carrier.test', `wrong-${n}`)),
    );
    expect(tally(burst)).toEqual({ 401: FREE, 429: 40 - FREE });

    // A sequential attacker, on an email that does not even exist: the same allowance.
    const sequential = await sequentialChecks((n) => issue('nobody@carrier.test', `wrong-${n}`));
    expect(sequential).toBe(FREE);

    // The pair stays throttled, even for the right password.
    expect((await issue('burst@carrier.test', PASSWORD)).status).toBe(429);
    const [row] = await sql('select failures from login_throttle where email = ?', [
      'burst@carrier.test',
    ]);
    expect(row?.failures).toBe(FREE);
  });

  it('still lets the right password in, and a success clears the pair', async () => {
    await newUser('clears@carrier.test');
    expect((await issue('clears@carrier.test', 'wrong-1')).status).toBe(401);
    expect((await issue('clears@carrier.test', PASSWORD)).status).toBe(201);
    expect(
      await sql('select 1 from login_throttle where email = ?', ['clears@carrier.test']),
    ).toEqual([]);
    // A success costs the IP nothing: only the one wrong guess is spent.
    const [ip] = await sql('select failures from login_ip_throttle');
    expect(ip?.failures).toBe(1);
  });
});

describe('sign-in budget per IP across emails (password spraying)', () => {
  it('allows a spray exactly the budget, in a burst as one by one, and only to that IP', async () => {
    await newUser('sprayed@carrier.test');
    const spray = await Promise.all(
      Array.from({ length: 20 }, (_, n) => issue(`spray-${n}@carrier.test`, 'Winter2026!')),
    );
    expect(tally(spray)).toEqual({ 401: IP_BUDGET, 429: 20 - IP_BUDGET });
    // Spent: even a right password from this IP waits for the window to end.
    const blocked = await issue('sprayed@carrier.test', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(500);
    // Naming another address in X-Forwarded-For does not buy a new budget: no proxy is
    // trusted here (TRUST_PROXY_HOPS unset), so the connection's peer is the client.
    expect(
      await issueFrom('127.0.0.1', 'sprayed@carrier.test', PASSWORD, {
        'x-forwarded-for': '198.51.100.9',
      }),
    ).toBe(429);
    // Another client address is not affected.
    expect(await issueFrom('127.0.0.2', 'sprayed@carrier.test', PASSWORD)).toBe(201);

    await sql('delete from login_ip_throttle');
    const sequential = await sequentialChecks((n) =>
      issue(`one-by-one-${n}@carrier.test`, 'Winter2026!'),
    );
    expect(sequential).toBe(IP_BUDGET);
  });

  it('does not spend the budget on guesses the pair throttle refused before any check', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, n) => issue('pair-only@carrier.test', `wrong-${n}`)),
    );
    const [ip] = await sql('select failures from login_ip_throttle');
    expect(ip?.failures).toBe(FREE);
  });
});

describe('sign-in budget per email across addresses (many addresses, one password)', () => {
  /** Tallies statuses. */
  const statuses = (answers: number[]) =>
    answers.reduce<Record<number, number>>((counts, status) => {
      counts[status] = (counts[status] ?? 0) + 1;
      return counts;
    }, {});

  it('refuses new addresses once spent, and lets the person in from its own', async () => {
    await newUser('targeted@carrier.test');
    // The person signs in from 127.0.0.1: that address is known to the email now.
    expect((await issue('targeted@carrier.test', PASSWORD)).status).toBe(201);
    // One wrong guess from each of many addresses: each is under its pair curve and its
    // IP budget, so only the email's budget can stop them — in a burst as one by one.
    const botnet = await Promise.all(
      Array.from({ length: 14 }, (_, n) =>
        issueFrom(`127.0.1.${n + 1}`, 'targeted@carrier.test', `wrong-${n}`),
      ),
    );
    expect(statuses(botnet)).toEqual({ 401: ACCOUNT_BUDGET, 429: 14 - ACCOUNT_BUDGET });
    // Spent: a new address waits for the window, even with the right password…
    expect(await issueFrom('127.0.1.100', 'targeted@carrier.test', PASSWORD)).toBe(429);
    // …while the person's own address is spared, wrong guesses and all.
    expect((await issue('targeted@carrier.test', 'typo')).status).toBe(401);
    const own = await issue('targeted@carrier.test', PASSWORD);
    expect(own.status).toBe(201);
    // The person is told once (in the panel and by mail), however many were refused.
    const notices = async () =>
      (
        await bearerCall(suite.server.url, own.body.token, 'GET', '/notifications')
      ).body.items.filter((notice: { kind: string }) => notice.kind === 'user.sign_ins_paused');
    await expect.poll(notices).toHaveLength(1);
    const [notice] = await notices();
    expect(notice).toMatchObject({
      title: 'Sign-ins from new addresses paused',
      link: '/account/security',
    });
    expect(notice.body).toMatch(
      new RegExp(
        `^${ACCOUNT_BUDGET} sign-ins as targeted@carrier\\.test failed .* Until \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC`,
      ),
    );
    expect(await issueFrom('127.0.1.101', 'targeted@carrier.test', 'again')).toBe(429);
    const mails = await sql(
      `select o.subject from outbox o join notification n on n.id = o.notification_id
        where n.kind = 'user.sign_ins_paused'`,
    );
    expect(mails).toEqual([{ subject: 'Sign-ins from new addresses paused' }]);

    // An email that does not exist is budgeted alike: the throttle tells nothing.
    let checks = 0;
    for (let n = 0; n < 14; n += 1) {
      const status = await issueFrom(`127.0.2.${n + 1}`, 'nobody-else@carrier.test', 'x');
      if (status === 429) break;
      checks += 1;
    }
    expect(checks).toBe(ACCOUNT_BUDGET);
  });

  it('tells the person at most once a day, however often the budget is spent', async () => {
    const policy = {
      freeFailures: FREE,
      lockFailures: 5,
      baseDelayMs: 60_000,
      lockSeconds: LOCK_SECONDS,
      ipFailures: IP_BUDGET,
      ipWindowSeconds: 600,
      accountFailures: ACCOUNT_BUDGET,
      accountWindowSeconds: 600,
      knownAddressDays: KNOWN_DAYS,
    };
    // A round of guesses from new addresses (its own each round): the budget's checks run,
    // then every further one is refused — and the claims say which refusal is to be told.
    const round = async (n: number) => {
      const claims = [];
      for (let guess = 1; guess <= ACCOUNT_BUDGET + 4; guess += 1) {
        const address = `198.51.${n}.${guess}`;
        claims.push(
          await claimLoginAttempt(suite.orm.em.fork(), 'told@carrier.test', address, policy),
        );
      }
      expect(claims.map((claim) => claim.wait > 0)).toEqual([
        ...Array<boolean>(ACCOUNT_BUDGET).fill(false),
        ...Array<boolean>(4).fill(true),
      ]);
      return claims.flatMap((claim, index) => (claim.pausedUntil ? [index] : []));
    };
    const windowEnds = () =>
      sql(`update login_account_throttle set window_ends_at = now() - interval '1 second'
            where email = 'told@carrier.test'`);
    expect(await round(1)).toEqual([ACCOUNT_BUDGET]);
    // The window ends and the budget is spent again the same day: not told again.
    await windowEnds();
    expect(await round(2)).toEqual([]);
    // A day after it was last told, it is told again.
    await windowEnds();
    await sql(`update login_account_throttle set paused_notice_for = now() - interval '25 hours'
                where email = 'told@carrier.test'`);
    expect(await round(3)).toEqual([ACCOUNT_BUDGET]);
  });

  it('gives the budget back for a right password whose code is still to come', async () => {
    await newUser('coded@carrier.test');
    const client = await apiClient(suite.server.url, 'coded@carrier.test', PASSWORD);
    const started = await client.post('/me/mfa', { password: PASSWORD });
    expect(started.status).toBe(201);
    const secret = OTPAuth.Secret.fromBase32(started.body.secret);
    const otp = new OTPAuth.TOTP({ secret }).generate();
    expect((await client.post('/me/mfa/confirm', { otp })).status).toBe(200);
    // The password alone, from more new addresses than the budget holds: each is asked
    // for its code (401 otp_required), and none of them is a failure of the email's.
    for (let n = 1; n <= ACCOUNT_BUDGET + 2; n += 1) {
      expect(await issueFrom(`127.0.4.${n}`, 'coded@carrier.test', PASSWORD)).toBe(401);
    }
    const [row] = await sql('select failures from login_account_throttle where email = ?', [
      'coded@carrier.test',
    ]);
    expect(row?.failures ?? 0).toBe(0);
    // So the whole budget is still there for wrong passwords from new addresses.
    const guesses = await sequentialChecks((n) =>
      issueFrom(`127.0.5.${n + 1}`, 'coded@carrier.test', `wrong-${n}`).then((status) => ({
        status,
      })),
    );
    expect(guesses).toBe(ACCOUNT_BUDGET);
  });

  it('spends nothing on a success, and nothing on guesses the pair refused first', async () => {
    await newUser('roams@carrier.test');
    // Right passwords from new addresses each time: none of them is a failure.
    for (let n = 1; n <= ACCOUNT_BUDGET + 2; n += 1) {
      expect(await issueFrom(`127.0.3.${n}`, 'roams@carrier.test', PASSWORD)).toBe(201);
    }
    // A burst from one new address: the pair allows FREE checks, and only those count.
    await Promise.all(
      Array.from({ length: 10 }, (_, n) => issueFrom('127.0.3.200', 'roams@carrier.test', `w${n}`)),
    );
    const [row] = await sql('select failures from login_account_throttle where email = ?', [
      'roams@carrier.test',
    ]);
    expect(row?.failures).toBe(FREE);
  });
});

describe('POST /me/password: guesses at the current password', () => {
  const change = (client: TApiClient, currentPassword: string, newPassword = 'a-new-password-1') =>
    client
      .raw(
        'POST',
        '/me/password',
        JSON.stringify({ currentPassword, newPassword }),
        'application/json',
      )
      .then((answer) => ({ ...answer, body: JSON.parse(answer.text || 'null') }));

  it('are throttled per user, in a burst as one by one, and a correct change clears them', async () => {
    const user = await newUser('guessed@carrier.test');
    const client = await apiClient(suite.server.url, 'guessed@carrier.test', PASSWORD);

    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, n) => change(client, `wrong-${n}`)),
    );
    expect(tally(burst)).toEqual({ 400: FREE, 429: 20 - FREE });
    expect(burst.find((answer) => answer.status === 400)?.body).toMatchObject({
      error: { code: 'invalid_input', fields: { currentPassword: expect.any(String) } },
    });
    // Throttled before the check: the right current password waits too.
    expect((await change(client, PASSWORD)).status).toBe(429);

    // The delay has run out (moved into the past rather than waited for).
    await sql(
      `update password_change_throttle set next_allowed_at = now() - interval '1 second' where user_id = ?`,
      [user.id],
    );
    expect((await change(client, PASSWORD, 'a-new-password-1')).status).toBe(204);
    expect(
      await sql('select 1 from password_change_throttle where user_id = ?', [user.id]),
    ).toEqual([]);
    const sequential = await sequentialChecks((n) => change(client, `again-${n}`));
    expect(sequential).toBe(FREE);
  });
});

describe('pruning', () => {
  it('forgets a locked pair quiet for a lock period though nothing pruned meanwhile', async () => {
    // Locked (its failures past the lock), its wait ended a lock period and a minute ago,
    // and no refusal since to prune it: its next guess starts a fresh curve, free.
    const email = 'back-later@carrier.test';
    expect((await issue(email, 'wrong')).status).toBe(401);
    await sql(
      `update login_throttle set failures = 5,
              next_allowed_at = now() - (? * interval '1 second') where email = ?`,
      [LOCK_SECONDS + 60, email],
    );
    expect((await issue(email, 'wrong')).status).toBe(401);
    expect((await issue(email, 'wrong')).status).toBe(401);
    const [row] = await sql(`select failures from login_throttle where email = ?`, [email]);
    expect(row).toEqual({ failures: 2 });
    // A fresh curve, not one forgotten at every guess: past the free ones, it waits again.
    expect((await issue(email, 'wrong')).status).toBe(401);
    expect((await issue(email, 'wrong')).status).toBe(429);
  });

  it('forgets throttle rows whose wait ended a lock period ago, and keeps live ones', async () => {
    for (const email of ['old@carrier.test', 'recent@carrier.test', 'locked@carrier.test']) {
      expect((await issue(email, 'wrong')).status).toBe(401);
    }
    const age = (email: string, seconds: number) =>
      sql(
        `update login_throttle set next_allowed_at = now() - (? * interval '1 second') where email = ?`,
        [seconds, email],
      );
    await age('old@carrier.test', LOCK_SECONDS + 60);
    await age('recent@carrier.test', LOCK_SECONDS - 60);
    await sql(
      `update login_throttle set next_allowed_at = now() + interval '5 minutes' where email = ?`,
      ['locked@carrier.test'],
    );
    const oldUser = crypto.randomUUID();
    const recentUser = crypto.randomUUID();
    await sql(
      `insert into password_change_throttle (user_id, failures, next_allowed_at, updated_at)
       values (?, 4, now() - (? * interval '1 second'), now()), (?, 4, now(), now())`,
      [oldUser, LOCK_SECONDS + 60, recentUser],
    );
    await sql(
      `insert into login_ip_throttle (ip, failures, window_ends_at, updated_at)
       values ('203.0.113.9', 5, now() - interval '1 second', now()),
              ('203.0.113.10', 5, now() + interval '1 minute', now())`,
    );
    await sql(
      `insert into login_account_throttle (email, failures, window_ends_at, updated_at)
       values ('ended@carrier.test', 5, now() - interval '1 second', now()),
              ('open@carrier.test', 5, now() + interval '1 minute', now())`,
    );
    await sql(
      `insert into login_known_address (email, ip, signed_in_at)
       values ('ended@carrier.test', '203.0.113.1', now() - (? * interval '1 day') - interval '1 hour'),
              ('open@carrier.test', '203.0.113.1', now() - (? * interval '1 day') + interval '1 hour')`,
      [KNOWN_DAYS, KNOWN_DAYS],
    );

    // Any refused sign-in prunes.
    expect((await issue('trigger@carrier.test', 'wrong')).status).toBe(401);

    const left = async (table: string, column: string) =>
      (await sql(`select ${column} as key from ${table} order by 1`)).map((row) => row.key);
    const pairs = await left('login_throttle', 'email');
    expect(pairs).not.toContain('old@carrier.test');
    expect(pairs).toEqual(
      expect.arrayContaining([
        'recent@carrier.test',
        'locked@carrier.test',
        'trigger@carrier.test',
      ]),
    );
    const own = await left('password_change_throttle', 'user_id');
    expect(own).not.toContain(oldUser);
    expect(own).toContain(recentUser);
    const ips = await left('login_ip_throttle', 'ip');
    expect(ips).not.toContain('203.0.113.9');
    expect(ips).toContain('203.0.113.10');
    const emails = await left('login_account_throttle', 'email');
    expect(emails).not.toContain('ended@carrier.test');
    expect(emails).toContain('open@carrier.test');
    const known = await left('login_known_address', 'email');
    expect(known).not.toContain('ended@carrier.test');
    expect(known).toContain('open@carrier.test');
  });
});
