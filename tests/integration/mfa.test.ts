import { beforeAll, describe, expect, it } from 'vitest';
import * as OTPAuth from 'otpauth';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, bearerCall, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';
import { io, type Socket } from 'socket.io-client';
import { listenAs } from '../fixtures/cookie-listener';
import { until } from '../fixtures/live-client';
import { request as httpRequest } from 'node:http';

const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'mfa-user-password-1';
const STEP_MS = 30_000;

let admin: TApiClient;
let carrierId: string;
let staffGroupId: string;

// In process: where Next's pages send a member who has not enrolled is checked on the
// production server (production-server.test.ts).
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
  const staff = await admin.post('/groups', {
    name: 'Staff',
    grants: ['customers:read', 'users:read'],
  });
  expect(staff.body.requireMfa).toBe(false);
  staffGroupId = staff.body.id;
});

async function newUser(email: string, groupId = staffGroupId): Promise<{ id: string }> {
  const response = await admin.post('/users', {
    email,
    password: PASSWORD,
    accountId: carrierId,
    groupId,
  });
  expect(response.status).toBe(201);
  expect(response.body.mfaEnabled).toBe(false);
  return response.body;
}

/**
 * The code an authenticator app shows `offset` steps from now, computed here from the
 * secret the panel gave. Each code is accepted once and only for a later step than the
 * last, so a test takes step -1, 0, +1 in turn; near the end of a step it first waits
 * for the next one, so the server checks the code in the step it was made for.
 */
async function codeFor(secret: string, offset: number): Promise<string> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 4000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offset * STEP_MS,
  });
}

/** next-auth answers a refused sign-in with the login page's URL carrying `error`. */
const signInError = (body: string) => new URL(JSON.parse(body).url).searchParams.get('error');

async function failuresOf(email: string): Promise<number> {
  const rows = await suite.orm.em
    .fork()
    .execute<{ failures: number | null }[]>(
      'select sum(failures)::int as failures from login_throttle where email = ?',
      [email],
    );
  return rows[0]?.failures ?? 0;
}

async function userRow(id: string) {
  const rows = await suite.orm.em.fork().execute<
    {
      mfa_secret: string | null;
      mfa_pending_secret: string | null;
      mfa_enabled_at: Date | null;
      mfa_recovery_codes: string[] | null;
      session_version: number;
    }[]
  >(
    `select mfa_secret, mfa_pending_secret, mfa_enabled_at, mfa_recovery_codes, session_version
       from app_user where id = ?`,
    [id],
  );
  return rows[0]!;
}

async function logOf(userId: string) {
  return suite.orm.em
    .fork()
    .execute<{ before: unknown; after: unknown; summary: Record<string, unknown> | null }[]>(
      'select before, after, summary from change_log where entity_id = ? order by seq',
      [userId],
    );
}

const deleteMfa = (client: TApiClient, body: unknown) =>
  client
    .raw('DELETE', '/me/mfa', JSON.stringify(body), 'application/json')
    .then(({ status, text }) => ({ status, body: text ? JSON.parse(text) : null }));

/** Enrols `client` end to end; answers the secret and the recovery codes. */
async function enrol(client: TApiClient, offset = -1) {
  const started = await client.post('/me/mfa', { password: PASSWORD });
  expect(started.status).toBe(201);
  const confirmed = await client.post('/me/mfa/confirm', {
    otp: await codeFor(started.body.secret, offset),
  });
  expect(confirmed.status).toBe(200);
  return { secret: started.body.secret as string, codes: confirmed.body.recoveryCodes as string[] };
}

describe('MFA enrolment and sign-in', () => {
  const email = 'mfa@carrier.test';
  let user: { id: string };
  let secret: string;
  let recoveryCodes: string[];

  it('enrols: a pending secret (encrypted), its URI and QR code, then a first code turns it on', async () => {
    user = await newUser(email);
    const client = await apiClient(suite.server.url, email, PASSWORD);
    expect((await client.get('/me/mfa')).body).toEqual({
      enabled: false,
      enabledAt: null,
      pending: false,
      required: false,
      recoveryCodesLeft: 0,
    });
    expect((await client.post('/me/mfa/confirm', { otp: '123456' })).body.error.code).toBe(
      'mfa_not_started',
    );

    const started = await client.post('/me/mfa', { password: PASSWORD });
    expect(started.status).toBe(201);
    secret = started.body.secret;
    const fromUri = OTPAuth.URI.parse(started.body.otpauthUri) as OTPAuth.TOTP;
    expect(fromUri.secret.base32).toBe(secret);
    expect(fromUri.label).toBe(email);
    // No brand on the path: the product's own name.
    expect(fromUri.issuer).toBe('Reseller Panel');
    expect(started.body.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(started.body.qrCode.split(',')[1], 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg[^>]*>.*<path/s);
    const pending = await userRow(user.id);
    expect(pending.mfa_pending_secret).toBeTruthy();
    expect(pending.mfa_pending_secret).not.toContain(secret);
    expect(pending.mfa_enabled_at).toBeNull();

    const wrong = await client.post('/me/mfa/confirm', { otp: '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.fields).toHaveProperty('otp');
    expect((await client.post('/me/mfa/confirm', {})).body.error.fields).toHaveProperty('otp');

    const confirmed = await client.post('/me/mfa/confirm', { otp: await codeFor(secret, -1) });
    expect(confirmed.status).toBe(200);
    recoveryCodes = confirmed.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);

    const on = await userRow(user.id);
    expect(on.mfa_enabled_at).not.toBeNull();
    expect(on.mfa_pending_secret).toBeNull();
    expect(on.mfa_secret).not.toContain(secret);
    expect(on.mfa_recovery_codes).toHaveLength(10);
    for (const code of recoveryCodes) {
      expect(on.mfa_recovery_codes!.join()).not.toContain(code.replace(/-/g, ''));
    }
    expect((await admin.get(`/users/${user.id}`)).body.mfaEnabled).toBe(true);
    expect((await client.get('/me')).body.mfa).toEqual({ enrolled: true, required: false });
  });

  it('audits enrolment without the secret or any code', async () => {
    const log = await logOf(user.id);
    const mfaSteps = log.map((row) => row.summary?.mfa).filter(Boolean);
    expect(mfaSteps).toEqual(['enrolment_started', 'enabled']);
    const text = JSON.stringify(log);
    expect(text).not.toContain(secret);
    for (const code of recoveryCodes) expect(text).not.toContain(code);
    const enabled = log.find((row) => row.summary?.mfa === 'enabled')!;
    expect(enabled.before).toMatchObject({ mfaEnabled: false });
    expect(enabled.after).toMatchObject({ mfaEnabled: true });
  });

  it('turning it on ends the other sessions and their sockets, not the enrolling one nor tokens', async () => {
    const email = 'two-tabs@carrier.test';
    const { id } = await newUser(email);
    const enrolling = await apiClient(suite.server.url, email, PASSWORD);
    const other = await apiClient(suite.server.url, email, PASSWORD);
    const token = (await requestToken(suite.server.url, email, PASSWORD)).body.token as string;
    const live = await handshake(other.cookie);
    if (!('socket' in live)) throw new Error(`refused: ${live.refused}`);
    const closed = new Promise((resolve) => live.socket.once('disconnect', resolve));

    await enrol(enrolling);
    expect((await other.get('/me')).status).toBe(401);
    await closed;
    expect(await handshake(other.cookie)).toEqual({ refused: 'unauthenticated' });
    expect((await enrolling.get('/me')).status).toBe(200);
    expect((await enrolling.get('/me/mfa')).body.enabled).toBe(true);
    expect((await bearerCall(suite.server.url, token, 'GET', '/me/mfa')).body.enabled).toBe(true);
    expect((await logOf(id)).at(-1)!.summary).toEqual({ mfa: 'enabled', sessionsEnded: 1 });
  });

  /** Once one of `racers` has a session, or all have answered without one. */
  const firstSignedIn = (racers: Promise<{ cookie: string | null }>[]) =>
    Promise.race([
      Promise.all(racers),
      ...racers.map((racer) =>
        racer.then((answer) => (answer.cookie ? answer : new Promise<never>(() => {}))),
      ),
    ]);

  it('leaves no session to a password-only sign-in racing the moment it is turned on', async () => {
    let signedIn = 0;
    const survivors: string[] = [];
    for (let round = 0; round < 8; round += 1) {
      const email = `racer-${round}@carrier.test`;
      await newUser(email);
      const enrolling = await apiClient(suite.server.url, email, PASSWORD);
      const started = await enrolling.post('/me/mfa', { password: PASSWORD });
      const otp = await codeFor(started.body.secret, -1);
      // Sign-ins checked with MFA off, some opening their session only after the
      // enrolment has ended the others: none may outlive it.
      const racers = Array.from({ length: 4 }, () =>
        signInOverHttp(suite.server.url, email, PASSWORD),
      );
      // Every other round confirms once a racer is in (that session must end with it), the
      // rest after a few milliseconds (racers checked before it, opening after it). "In"
      // means a session, not the first answer: four attempts at once spend the pair's free
      // allowance up front, so on a loaded machine the fastest answer can be a throttled
      // one, and confirming on it left every round without a session to end.
      if (round % 2) await firstSignedIn(racers);
      else await new Promise((resolve) => setTimeout(resolve, round * 8));
      const confirmed = await enrolling.post('/me/mfa/confirm', { otp });
      expect(confirmed.status).toBe(200);
      for (const racer of await Promise.all(racers)) {
        if (!racer.cookie) continue;
        signedIn += 1;
        const status = await fetch(`${suite.server.url}/api/v1/me`, {
          headers: { cookie: racer.cookie },
        }).then((response) => response.status);
        if (status !== 401) survivors.push(`${email}: ${status}`);
      }
    }
    expect(survivors).toEqual([]);
    // The race was run: some sign-ins got their session before the enrolment ended it.
    expect(signedIn).toBeGreaterThan(0);
  });

  it('sign-in and POST /auth/token then need the code; a missing or wrong one is refused and throttled', async () => {
    expect(await failuresOf(email)).toBe(0);
    // The right code, taken before the failures: `codeFor` may wait for the next time step
    // (up to 4 s), and a wait after them could outlast the throttle's first delay (1 s),
    // letting the right code in where the test expects it throttled.
    const rightCode = await codeFor(secret, 0);
    // The password is checked first: a wrong one says nothing about MFA.
    const wrongPassword = await signInOverHttp(suite.server.url, email, 'not-the-password', {
      otp: rightCode,
    });
    expect(wrongPassword.cookie).toBeNull();
    expect(signInError(wrongPassword.body)).toBe('CredentialsSignin');
    expect(await failuresOf(email)).toBe(1);

    const noCode = await signInOverHttp(suite.server.url, email, PASSWORD);
    expect(noCode.cookie).toBeNull();
    expect(signInError(noCode.body)).toBe('otp_required');
    expect(await failuresOf(email)).toBe(2);

    const wrongCode = await signInOverHttp(suite.server.url, email, PASSWORD, { otp: '000000' });
    expect(wrongCode.cookie).toBeNull();
    expect(signInError(wrongCode.body)).toBe('otp_invalid');
    expect(await failuresOf(email)).toBe(3);

    // Three failures (the default free allowance): now even the right code waits.
    const throttled = await signInOverHttp(suite.server.url, email, PASSWORD, {
      otp: rightCode,
    });
    expect(throttled.cookie).toBeNull();
    expect(signInError(throttled.body)).toMatch(/^throttled:\d+$/);
    // As if the delay had passed.
    await suite.orm.em.fork().execute('delete from login_throttle where email = ?', [email]);

    const tokenNoCode = await requestToken(suite.server.url, email, PASSWORD);
    expect(tokenNoCode.status).toBe(401);
    expect(tokenNoCode.body.error.code).toBe('otp_required');
    expect(tokenNoCode.body).not.toHaveProperty('token');
    expect(await failuresOf(email)).toBe(1);

    const withCode = await signInOverHttp(suite.server.url, email, PASSWORD, {
      otp: await codeFor(secret, 0),
    });
    expect(withCode.cookie).toBeTruthy();
    expect(await failuresOf(email)).toBe(0);

    const tokenCode = await codeFor(secret, 1);
    const token = await fetch(`${suite.server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, otp: tokenCode }),
    });
    expect(token.status).toBe(201);
    const issued = (await token.json()) as { token: string };
    // A token issued after the code works on its own, as scripts need.
    const me = await bearerCall(suite.server.url, issued.token, 'GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);

    // The same code again: spent.
    const replay = await fetch(`${suite.server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, otp: tokenCode }),
    });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('otp_invalid');
    expect(await failuresOf(email)).toBe(1);
  });

  it('a sign-in in two steps (the password, then the code) costs the address nothing', async () => {
    // The form posts the password alone first (answered `otp_required`), then both: each
    // right password gives its address claim back, or a NOC behind one address would run
    // out of budget after LOGIN_IP_FAILURES clean sign-ins and lock everyone out.
    const twoStep = 'two-step@carrier.test';
    await newUser(twoStep);
    const { secret: own } = await enrol(await apiClient(suite.server.url, twoStep, PASSWORD));
    const ipFailures = async () =>
      (
        await suite.orm.em
          .fork()
          .execute<{ failures: number | null }[]>(
            'select sum(failures)::int as failures from login_ip_throttle',
          )
      )[0]?.failures ?? 0;
    const before = await ipFailures();
    for (const offset of [0, 1]) {
      const step = await signInOverHttp(suite.server.url, twoStep, PASSWORD);
      expect(signInError(step.body)).toBe('otp_required');
      const signedIn = await signInOverHttp(suite.server.url, twoStep, PASSWORD, {
        otp: await codeFor(own, offset),
      });
      expect(signedIn.cookie).toBeTruthy();
    }
    expect(await ipFailures()).toBe(before);
  });

  it('a recovery code signs in once, and its use is audited', async () => {
    const code = recoveryCodes[0]!;
    const first = await signInOverHttp(suite.server.url, email, PASSWORD, {
      otp: code.toUpperCase(),
    });
    expect(first.cookie).toBeTruthy();
    const again = await signInOverHttp(suite.server.url, email, PASSWORD, { otp: code });
    expect(again.cookie).toBeNull();
    expect(signInError(again.body)).toBe('otp_invalid');
    expect((await userRow(user.id)).mfa_recovery_codes).toHaveLength(9);
    const used = (await logOf(user.id)).filter((row) => row.summary?.mfaRecoveryCodeUsed);
    expect(used).toHaveLength(1);
    expect(used[0]!.summary).toMatchObject({ recoveryCodesLeft: 9 });
    expect(JSON.stringify(used)).not.toContain(code);

    // Another recovery code for a script's token.
    const token = await fetch(`${suite.server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, otp: recoveryCodes[1] }),
    });
    expect(token.status).toBe(201);
    expect((await userRow(user.id)).mfa_recovery_codes).toHaveLength(8);
  });

  it('turning it off needs a code or the password; then the password alone signs in', async () => {
    const client = await apiClient(suite.server.url, email, PASSWORD, { otp: recoveryCodes[2]! });
    const noProof = await deleteMfa(client, {});
    expect(noProof.status).toBe(400);
    expect(noProof.body.error.fields).toHaveProperty('otp');
    const wrongPassword = await deleteMfa(client, { password: 'not-the-password' });
    expect(wrongPassword.status).toBe(400);
    expect(wrongPassword.body.error.fields).toHaveProperty('password');
    expect((await userRow(user.id)).mfa_enabled_at).not.toBeNull();

    expect((await deleteMfa(client, { password: PASSWORD })).status).toBe(204);
    const off = await userRow(user.id);
    expect(off).toMatchObject({
      mfa_secret: null,
      mfa_enabled_at: null,
      mfa_recovery_codes: null,
    });
    expect((await signInOverHttp(suite.server.url, email, PASSWORD)).cookie).toBeTruthy();
    expect((await logOf(user.id)).at(-1)!.summary).toMatchObject({ mfa: 'disabled' });
  });
});

/** `POST /auth/token` from another loopback address (another client IP): status and code. */
function tokenFrom(localAddress: string, body: Record<string, string>) {
  const url = new URL('/api/v1/auth/token', suite.server.url);
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).error?.code }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('guesses at a second secret are throttled per user', () => {
  it('a known password from many addresses gets no more code guesses than from one', async () => {
    const email = 'many-addresses@carrier.test';
    await newUser(email);
    const { secret } = await enrol(await apiClient(suite.server.url, email, PASSWORD));
    // The right code, taken before the guesses: `codeFor` may wait for the next time
    // step (up to 4 s), and a wait after the guesses could outlast the throttle's delay.
    // It stays good for its step and the next (the server's window).
    const rightCode = await codeFor(secret, 0);
    const answers = [];
    // Each guess from a new client address: the (email, IP) pair and the IP budget are
    // fresh every time, so only a per-user budget can stop this.
    for (const n of [2, 3, 4, 5, 6]) {
      answers.push(
        await tokenFrom(`127.0.0.${n}`, { email, password: PASSWORD, otp: 'not-a-code' }),
      );
    }
    expect(answers).toEqual([
      { status: 401, code: 'otp_invalid' },
      { status: 401, code: 'otp_invalid' },
      { status: 401, code: 'otp_invalid' },
      { status: 429, code: 'throttled' },
      { status: 429, code: 'throttled' },
    ]);
    // Even the right code waits now, from yet another address.
    const right = await tokenFrom('127.0.0.7', { email, password: PASSWORD, otp: rightCode });
    expect(right).toEqual({ status: 429, code: 'throttled' });
  });

  it('starts only with the current password: a stolen session or token cannot enrol its own app', async () => {
    const email = 'enrol-proof@carrier.test';
    const user = await newUser(email);
    const client = await apiClient(suite.server.url, email, PASSWORD);
    const token = (await requestToken(suite.server.url, email, PASSWORD)).body.token as string;
    const missing = await client.post('/me/mfa', {});
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { fields: { password: 'is required' } } },
    });
    const wrong = await client.post('/me/mfa', { password: 'not-the-password' });
    expect(wrong).toMatchObject({
      status: 400,
      body: { error: { fields: { password: 'is not your current password' } } },
    });
    const byToken = await bearerCall(suite.server.url, token, 'POST', '/me/mfa', {
      password: 'guessed-wrong',
    });
    expect(byToken.status).toBe(400);
    expect(byToken.body.error.fields).toHaveProperty('password');
    // Nothing was started by any of them.
    expect((await userRow(user.id)).mfa_pending_secret).toBeNull();
    // Guesses are throttled per user, like turning MFA off (two so far, through both
    // credentials): the right password waits too.
    const statuses = [];
    for (let n = 0; n < 3; n += 1) {
      statuses.push((await client.post('/me/mfa', { password: `guess-${n}` })).status);
    }
    expect(statuses).toEqual([400, 429, 429]);
    expect((await client.post('/me/mfa', { password: PASSWORD })).status).toBe(429);
    expect((await userRow(user.id)).mfa_pending_secret).toBeNull();
  });

  it('confirming an enrolment: wrong codes are throttled, and then the right one waits too', async () => {
    const email = 'confirm-guesser@carrier.test';
    const user = await newUser(email);
    const client = await apiClient(suite.server.url, email, PASSWORD);
    const started = await client.post('/me/mfa', { password: PASSWORD });
    expect(started.status).toBe(201);
    const rightCode = await codeFor(started.body.secret, 0);
    const statuses = [];
    for (let n = 0; n < 5; n += 1) {
      statuses.push((await client.post('/me/mfa/confirm', { otp: `00000${n}` })).status);
    }
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    expect((await client.post('/me/mfa/confirm', { otp: rightCode })).status).toBe(429);
    expect((await userRow(user.id)).mfa_enabled_at).toBeNull();
  });

  it('a request refused for the MFA state is no guess: it locks nothing', async () => {
    // Confirming with nothing started, or turning off what is not on, asks nothing secret;
    // counted as guesses, three of them locked the person's own password change.
    const email = 'state-refused@carrier.test';
    await newUser(email);
    const client = await apiClient(suite.server.url, email, PASSWORD);
    for (let n = 0; n < 3; n += 1) {
      const confirm = await client.post('/me/mfa/confirm', { otp: `12345${n}` });
      expect(confirm.body.error.code).toBe('mfa_not_started');
      const off = await deleteMfa(client, { password: `not-checked-${n}` });
      expect(off.body.error.code).toBe('mfa_not_enabled');
    }
    const changed = await client.post('/me/password', {
      currentPassword: PASSWORD,
      newPassword: 'a-new-password-after-refusals',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
  });

  it('turning MFA off by password is throttled like the password change', async () => {
    const email = 'turn-off-guesser@carrier.test';
    await newUser(email);
    const client = await apiClient(suite.server.url, email, PASSWORD);
    await enrol(client);
    const statuses = [];
    for (let n = 0; n < 5; n += 1) {
      statuses.push((await deleteMfa(client, { password: `wrong-password-${n}` })).status);
    }
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    expect((await deleteMfa(client, { password: PASSWORD })).status).toBe(429);
  });
});

describe('an admin resets MFA under the manage rule', () => {
  let helpdesk: TApiClient;
  let helpdeskId: string;
  let target: { id: string };
  let richer: { id: string };

  beforeAll(async () => {
    const helpdeskGroup = await admin.post('/groups', {
      name: 'Helpdesk',
      grants: ['customers:read', 'users:read', 'users:update'],
    });
    const richerGroup = await admin.post('/groups', {
      name: 'Auditors',
      grants: ['customers:read', 'users:read', 'audit:read'],
    });
    helpdeskId = (await newUser('helpdesk@carrier.test', helpdeskGroup.body.id)).id;
    helpdesk = await apiClient(suite.server.url, 'helpdesk@carrier.test', PASSWORD);
    target = await newUser('lost-phone@carrier.test');
    richer = await newUser('auditor@carrier.test', richerGroup.body.id);
    for (const email of ['lost-phone@carrier.test', 'auditor@carrier.test']) {
      await enrol(await apiClient(suite.server.url, email, PASSWORD));
    }
  });

  it('refuses a user whose group holds grants the admin lacks, and oneself', async () => {
    const refused = await helpdesk.del(`/users/${richer.id}/mfa`);
    expect(refused.status).toBe(403);
    // Refused without naming the grant: a helpdesk without groups:read reads no group's.
    expect(refused.body.error).toMatchObject({ code: 'escalation', grants: [] });
    expect((await userRow(richer.id)).mfa_enabled_at).not.toBeNull();

    const self = await helpdesk.del(`/users/${helpdeskId}/mfa`);
    expect(self.status).toBe(403);
    expect(self.body.error).toMatchObject({ code: 'escalation', self: true });
  });

  it('resets a manageable user: MFA off, every session ended, audited', async () => {
    const before = await userRow(target.id);
    const session = await signInOverHttp(suite.server.url, 'lost-phone@carrier.test', PASSWORD);
    expect(signInError(session.body)).toBe('otp_required');

    const reset = await helpdesk.del(`/users/${target.id}/mfa`);
    expect(reset.status).toBe(200);
    expect(reset.body.mfaEnabled).toBe(false);
    const after = await userRow(target.id);
    expect(after.mfa_secret).toBeNull();
    expect(after.mfa_recovery_codes).toBeNull();
    expect(after.session_version).toBe(before.session_version + 1);
    expect((await logOf(target.id)).at(-1)!.summary).toEqual({
      mfa: 'reset',
      sessionsRevoked: true,
    });

    const again = await helpdesk.del(`/users/${target.id}/mfa`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('mfa_not_enabled');
    // The password alone signs in again; the user may enrol anew.
    expect(
      (await signInOverHttp(suite.server.url, 'lost-phone@carrier.test', PASSWORD)).cookie,
    ).toBeTruthy();
  });

  it('ends the sessions the user had', async () => {
    const other = await newUser('phone-2@carrier.test');
    const client = await apiClient(suite.server.url, 'phone-2@carrier.test', PASSWORD);
    await enrol(client);
    expect((await client.get('/me')).status).toBe(200);
    expect((await helpdesk.del(`/users/${other.id}/mfa`)).status).toBe(200);
    expect((await client.get('/me')).status).toBe(401);
  });
});

/** A browser tab's socket with `cookie`: its `hello`, or the handshake's refusal code. */
function handshake(cookie: string): Promise<{ socket: Socket } | { refused: string }> {
  const socket = io(suite.server.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { cookie },
  });
  return new Promise((resolve) => {
    socket.once('hello', () => resolve({ socket }));
    socket.once('connect_error', (error) => {
      socket.close();
      resolve({ refused: (error as { data?: { code: string } }).data?.code ?? error.message });
    });
  });
}

describe('a group edited to require MFA, of a member who has it', () => {
  it('tells the member, who may not read the group: its view of itself follows', async () => {
    // Rooms and grants stay, so its socket is not rescoped; before, the entry's access
    // flag also withheld the member's own-identity signal, and `/me` (the group's name,
    // `mfa.required`) stood still until a reload.
    const group = await admin.post('/groups', { name: 'Clerks', grants: ['customers:read'] });
    expect(group.status).toBe(201);
    await newUser('clerk@carrier.test', group.body.id);
    const client = await apiClient(suite.server.url, 'clerk@carrier.test', PASSWORD);
    await enrol(client);
    const watching = await listenAs(suite.server.url, client);
    try {
      const edited = await admin.patch(`/groups/${group.body.id}`, {
        version: group.body.version,
        name: 'Clerks with MFA',
        requireMfa: true,
      });
      expect(edited.status).toBe(200);
      await until(() => watching.received.length > 0, 'the clerk to hear of its group');
      expect(watching.received).toEqual([
        expect.objectContaining({
          type: 'groups.refetch',
          id: group.body.id,
          summary: { refetch: [], reason: 'own_identity' },
        }),
      ]);
      expect((await client.get('/me')).body).toMatchObject({
        group: { name: 'Clerks with MFA' },
        mfa: { required: true },
      });
    } finally {
      watching.socket.close();
    }
  });
});

describe('a group that requires MFA', () => {
  let groupId: string;
  let groupVersion: number;
  const email = 'must@carrier.test';

  beforeAll(async () => {
    const group = await admin.post('/groups', {
      name: 'Carrier admins',
      grants: ['customers:read', 'users:read'],
      requireMfa: true,
    });
    expect(group.body.requireMfa).toBe(true);
    groupId = group.body.id;
    groupVersion = group.body.version;
    await newUser(email, groupId);
  });

  it('lets a person it holds end an open view-as, and nothing more', async () => {
    const support = await admin.post('/groups', {
      name: 'Support desk',
      grants: ['customers:read', 'users:read', 'impersonation:start'],
    });
    expect(support.status).toBe(201);
    await newUser('desk@carrier.test', support.body.id);
    // A user of a reseller below: a view is of a strictly lower account's user.
    const reseller = await admin.post('/resellers', { name: 'Viewed Ltd', email: 'v@viewed.test' });
    const resellerGroup = await admin.post('/groups', { template: 'default-reseller' });
    const target = await admin.post('/users', {
      email: 'viewed@carrier.test',
      password: PASSWORD,
      accountId: reseller.body.id,
      groupId: resellerGroup.body.id,
    });
    expect(target.status).toBe(201);
    const desk = await apiClient(suite.server.url, 'desk@carrier.test', PASSWORD);
    expect(
      (await desk.post('/impersonation', { userId: target.body.id, reason: 'ticket 7' })).status,
    ).toBe(201);
    // The desk's group starts requiring MFA while the view is open: the person is held.
    expect(
      (
        await admin.patch(`/groups/${support.body.id}`, {
          version: support.body.version,
          requireMfa: true,
        })
      ).status,
    ).toBe(200);
    expect((await desk.get('/customers')).body.error.code).toBe('mfa_enrolment_required');
    // Held, the person is served as themselves: never the viewed person's identity.
    expect((await desk.get('/me')).body).toMatchObject({
      user: { email: 'desk@carrier.test' },
      mfa: { required: true, enrolled: false },
      impersonation: null,
    });
    // Ending the view is the way back to an empty panel.
    expect((await desk.del('/impersonation')).status).toBe(204);
    expect((await desk.get('/me/mfa')).body).toMatchObject({ required: true, enabled: false });
    expect((await desk.get('/customers')).body.error.code).toBe('mfa_enrolment_required');
  });

  it('leaves a user who has not enrolled only the enrolment endpoints', async () => {
    const client = await apiClient(suite.server.url, email, PASSWORD);
    const blocked = await client.get('/customers');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('mfa_enrolment_required');
    expect((await client.get('/users')).body.error.code).toBe('mfa_enrolment_required');
    expect((await client.get('/me')).body.mfa).toEqual({ enrolled: false, required: true });
    expect((await client.get('/me/mfa')).body).toMatchObject({ enabled: false, required: true });

    // No live data flows before it (the pages: production-server.test.ts).
    expect(await handshake(client.cookie)).toEqual({ refused: 'mfa_enrolment_required' });

    // No token either: issued on the password alone, it would outlive the enrolment and
    // answer without a code ever after.
    const refused = await requestToken(suite.server.url, email, PASSWORD);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('mfa_enrolment_required');
    expect(
      (
        await suite.orm.em
          .fork()
          .execute(
            `select 1 from api_token t join app_user u on u.id = t.user_id where u.email = ?`,
            [email],
          )
      ).length,
    ).toBe(0);

    const { secret } = await enrol(client);
    expect((await client.get('/customers')).status).toBe(200);
    const live = await handshake(client.cookie);
    expect('socket' in live).toBe(true);
    if ('socket' in live) live.socket.close();
    // Enrolled: a token asks the code, like any sign-in.
    expect((await requestToken(suite.server.url, email, PASSWORD)).body.error.code).toBe(
      'otp_required',
    );

    // While required it stays on.
    const off = await deleteMfa(client, { otp: await codeFor(secret, 0) });
    expect(off.status).toBe(403);
    expect(off.body.error.code).toBe('mfa_required');
  });

  it('closes the live socket of a member who has not enrolled when the group starts requiring it', async () => {
    const member = 'later@carrier.test';
    await newUser(member);
    const client = await apiClient(suite.server.url, member, PASSWORD);
    const live = await handshake(client.cookie);
    if (!('socket' in live)) throw new Error(`refused: ${live.refused}`);
    const revoked = new Promise((resolve) => live.socket.once('session.revoked', resolve));
    const closed = new Promise((resolve) => live.socket.once('disconnect', resolve));
    const staff = await admin.get(`/groups/${staffGroupId}`);
    const require = await admin.patch(`/groups/${staffGroupId}`, {
      version: staff.body.version,
      requireMfa: true,
    });
    expect(require.status).toBe(200);
    const [told] = await Promise.all([revoked, closed]);
    // Still signed in, held at enrolment: the page reloads into it, no sign-in asked.
    expect(told).toMatchObject({ code: 'held' });
    expect(await handshake(client.cookie)).toEqual({ refused: 'mfa_enrolment_required' });
    const after = await admin.get(`/groups/${staffGroupId}`);
    await admin.patch(`/groups/${staffGroupId}`, {
      version: after.body.version,
      requireMfa: false,
    });
  });

  it('is a setting of the group, editable and audited like the rest', async () => {
    const patched = await admin.patch(`/groups/${groupId}`, {
      version: groupVersion,
      requireMfa: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.requireMfa).toBe(false);
    const rows = await suite.orm.em
      .fork()
      .execute<{ before: { requireMfa: boolean }; after: { requireMfa: boolean } }[]>(
        `select before, after from change_log where entity_id = ? and op = 'updated' order by seq desc limit 1`,
        [groupId],
      );
    expect(rows[0]).toMatchObject({ before: { requireMfa: true }, after: { requireMfa: false } });
    const bad = await admin.patch(`/groups/${groupId}`, {
      version: patched.body.version,
      requireMfa: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('requireMfa');
  });
});

describe('the authenticator entry', () => {
  it('is named after the brand the person works in', async () => {
    const brand = await admin.put(`/accounts/${carrierId}/brand`, {
      displayName: 'Carrier Voice',
      primaryColor: '#1d4ed8',
      accentColor: '#0369a1',
      hostnames: [],
    });
    expect(brand.status).toBe(201);
    try {
      const email = 'branded@carrier.test';
      await newUser(email);
      const client = await apiClient(suite.server.url, email, PASSWORD);
      const started = await client.post('/me/mfa', { password: PASSWORD });
      expect(started.status).toBe(201);
      const fromUri = OTPAuth.URI.parse(started.body.otpauthUri) as OTPAuth.TOTP;
      expect(fromUri.issuer).toBe('Carrier Voice');
      expect(started.body.otpauthUri).not.toContain('Reseller');
    } finally {
      expect((await admin.del(`/accounts/${carrierId}/brand`)).status).toBe(204);
    }
  });
});
