import { beforeAll, describe, expect, it } from 'vitest';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { signInOverHttp } from '../fixtures/http-login';

/**
 * Issue 13, items 9 and 10. A NUL (or another control character) in any text the API
 * takes is bad input: 400 naming the field, never the 500 PostgreSQL's refusal to store
 * it used to become, and nothing written. And the API's own routing answers in the API's
 * vocabulary: an unknown /api/v1 path is a JSON 404 `not_found`, a method a path does not
 * serve is a JSON 405 `method_not_allowed` with `Allow`.
 */
const ADMIN = { email: 'admin@input.test', password: 'input-admin-password' };
// In process: the 404/405 come from the request pipeline (server/app.ts). That `Allow`
// agrees with what Next itself answers to OPTIONS is checked on the production server
// (production-server.test.ts).
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let token: string;
const ids = {} as Record<'reseller' | 'customer' | 'user' | 'group' | 'card', string>;
const versions = {} as Record<keyof typeof ids, number>;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${token}` },
) {
  const response = await fetch(`${suite.server.url}/api/v1${path}`, {
    method,
    headers: {
      ...headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: { error?: { code?: string; message?: string; fields?: Record<string, string> } } = {};
  try {
    json = JSON.parse(text);
  } catch {
    // Left empty: the assertions on `json` say what was expected instead.
  }
  return { status: response.status, headers: response.headers, text, json };
}

beforeAll(async () => {
  token = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
  const made = async (path: string, body: unknown) => {
    const answer = await call('POST', path, body);
    expect(answer.status, `POST ${path}: ${answer.text}`).toBe(201);
    return answer.json as unknown as { id: string; version: number };
  };
  const group = await made('/groups', { template: 'default-reseller' });
  const reseller = await made('/resellers', { name: 'Input R', email: 'r@input.test' });
  const customer = await made('/customers', { name: 'Input K' });
  const user = await made('/users', {
    email: 'u@input.test',
    password: 'input-user-password',
    accountId: reseller.id,
    groupId: group.id,
  });
  const card = await made('/cards', { name: 'Input card', currency: 'EUR', kind: 'provider' });
  Object.assign(ids, {
    group: group.id,
    reseller: reseller.id,
    customer: customer.id,
    user: user.id,
    card: card.id,
  });
  Object.assign(versions, {
    group: group.version,
    reseller: reseller.version,
    customer: customer.version,
    user: user.version,
    card: card.version,
  });
});

/** What the change log and the named tables hold: nothing refused may move them. */
async function snapshot(): Promise<string> {
  const rows = await suite.orm.em.fork().execute(
    `select (select max(seq) from change_log) as head,
            (select count(*) from account) as accounts,
            (select count(*) from app_user) as users,
            (select count(*) from user_group) as groups,
            (select count(*) from impersonation) as views,
            (select count(*) from api_token) as tokens,
            (select count(*) from card) as cards,
            (select count(*) from rate) as rates`,
  );
  return JSON.stringify(rows);
}

const CONTROL = /control character/;

describe('a NUL or another control character in text (item 9)', () => {
  it('is refused as 400 naming the field, on every endpoint that takes text', async () => {
    const before = await snapshot();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/resellers', { name: 'R\u0000', email: 'n@input.test' }, 'name'],
      [
        'PATCH',
        `/resellers/${ids.reseller}`,
        { version: versions.reseller, name: 'R\u0000' },
        'name',
      ],
      ['POST', '/customers', { name: 'K\u0000x' }, 'name'],
      [
        'PATCH',
        `/customers/${ids.customer}`,
        { version: versions.customer, name: '\u0000' },
        'name',
      ],
      [
        'POST',
        '/users',
        {
          email: 'n2@input.test',
          password: 'input-user-password',
          name: 'U\u0000',
          accountId: ids.reseller,
          groupId: ids.group,
        },
        'name',
      ],
      ['PATCH', `/users/${ids.user}`, { version: versions.user, name: 'U\u0000' }, 'name'],
      [
        'PATCH',
        `/users/${ids.user}`,
        { version: versions.user, password: 'twelve-chars\u0000long' },
        'password',
      ],
      ['POST', '/groups', { name: 'G\u0000', grants: ['customers:read'] }, 'name'],
      ['PATCH', `/groups/${ids.group}`, { version: versions.group, name: 'G\u0000' }, 'name'],
      ['POST', '/cards', { name: 'C\u0000', currency: 'EUR', kind: 'provider' }, 'name'],
      ['PATCH', `/cards/${ids.card}`, { version: versions.card, name: 'C\u0000' }, 'name'],
      ['POST', `/cards/${ids.card}/derive`, { name: 'D\u0000' }, 'name'],
      [
        'PUT',
        `/cards/${ids.card}/rates`,
        { rates: [{ prefix: '44', destination: 'UK\u0000', rate: '0.01' }] },
        'rates.0.destination',
      ],
      ['POST', '/impersonation', { userId: ids.user, reason: 'looking\u0000 at it' }, 'reason'],
      [
        'POST',
        '/me/password',
        { currentPassword: 'x\u0000', newPassword: 'a-new-password-here' },
        'currentPassword',
      ],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await call(method, path, body);
      const what = `${method} ${path} ${JSON.stringify(body)}`;
      expect(answer.status, `${what} → ${answer.text}`).toBe(400);
      expect(answer.json.error?.code, what).toBe('invalid_input');
      expect(answer.json.error?.fields?.[field], `${what} → ${answer.text}`).toMatch(CONTROL);
    }
    expect(await snapshot()).toBe(before);
  });

  it('is refused in query parameters, naming the parameter', async () => {
    for (const path of ['/customers', '/resellers', '/cards']) {
      const answer = await call('GET', `${path}?q=${encodeURIComponent('a\u0000b')}`);
      expect(answer.status, `${path} → ${answer.text}`).toBe(400);
      expect(answer.json.error?.fields?.q, path).toMatch(CONTROL);
    }
    const cursor = await call('GET', `/customers?cursor=${encodeURIComponent('\u0000')}`);
    expect(cursor.status, cursor.text).toBe(400);
    expect(cursor.json.error?.fields?.cursor).toMatch(CONTROL);
    // A cursor that decodes to a NUL inside: still the caller's bad cursor, never a 500.
    const forged = Buffer.from(JSON.stringify([new Date().toISOString(), '\u0000'])).toString(
      'base64url',
    );
    const decoded = await call('GET', `/customers?cursor=${forged}`);
    expect(decoded.status, decoded.text).toBe(400);
    expect(decoded.json.error?.fields).toHaveProperty('cursor');
  });

  it('a hand-made list cursor whose sort value is not one the list gave out is 400 naming cursor', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const cases: [string, string][] = [];
    for (const list of ['/resellers', '/customers', '/users', '/cards', '/assignments']) {
      // Sorted by creation time: the value must be a time as the list writes it.
      for (const at of ['garbage', '0000-06-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z']) {
        cases.push([list, cursor(['createdAt', at, id])]);
      }
    }
    // Sorted by text: a NUL PostgreSQL cannot even compare, or another control character.
    for (const [list, sort] of [
      ['/resellers', 'name'],
      ['/customers', 'name'],
      ['/customers', '-email'],
      ['/users', 'name'],
      ['/cards', 'name'],
      ['/assignments', 'cardName'],
    ]) {
      for (const text of ['a\u0000b', 'a\u001bb']) {
        cases.push([`${list}?sort=${sort}&`, cursor([sort, text, id])]);
      }
    }
    // The notifications' own cursor (time, id).
    cases.push(['/notifications', cursor(['0000-06-01T00:00:00.000Z', id])]);
    // A card's rates (prefix, effective time) and the statements' (time~id, as text).
    for (const at of ['+010000-01-01T00:00:00.000Z', '0000-06-01T00:00:00.000Z']) {
      cases.push([`/cards/${ids.card}/rates`, cursor(['44', at])]);
    }
    cases.push(['/statements', `2026-02-30T00:00:00.000Z~${id}`]);
    cases.push(['/statements', `2026-01-01T00:00:00.000Z~${'-'.repeat(36)}`]);
    for (const [list, forged] of cases) {
      const path = `${list}${list.endsWith('&') ? '' : '?'}cursor=${encodeURIComponent(forged)}`;
      const answer = await call('GET', path);
      const what = `${path} ${Buffer.from(forged, 'base64url').toString()}`;
      expect(answer.status, `${what} → ${answer.text}`).toBe(400);
      expect(answer.json.error?.fields, `${what} → ${answer.text}`).toHaveProperty('cursor');
    }
    // What the lists gave out still pages, by time and by text.
    for (const query of ['limit=1', 'sort=name&limit=1']) {
      const page = await call('GET', `/users?${query}`);
      const next = (page.json as unknown as { nextCursor: string | null }).nextCursor;
      expect(next, query).not.toBeNull();
      expect((await call('GET', `/users?${query}&cursor=${next}`)).status, query).toBe(200);
    }
  });

  it('takes back every cursor it gave out, however long the sort value in it', async () => {
    // A cursor holds the last row's name: 200 Cyrillic characters are 400 UTF-8 bytes,
    // and the cursors of such names were refused as longer than 200 characters.
    const long = (letter: string) => `${letter}${'Ж'.repeat(199)}`;
    for (const name of [long('Я'), long('Ю')]) {
      expect((await call('POST', '/customers', { name })).status).toBe(201);
    }
    let cursor: string | null = null;
    const names: string[] = [];
    do {
      const query: string = `/customers?q=${encodeURIComponent('Ж'.repeat(10))}&sort=-name&limit=1`;
      const page = await call('GET', cursor ? `${query}&cursor=${cursor}` : query);
      expect(page.status, page.text).toBe(200);
      const body = page.json as unknown as { items: { name: string }[]; nextCursor: string | null };
      names.push(...body.items.map((item) => item.name[0]!));
      cursor = body.nextCursor;
      if (cursor) expect(cursor.length).toBeGreaterThan(200);
    } while (cursor);
    expect(names).toEqual(['Я', 'Ю']);
  });

  it('is refused by the unauthenticated token endpoint, and sign-in is simply refused', async () => {
    const before = await snapshot();
    for (const [body, field] of [
      [{ email: `${ADMIN.email}\u0000`, password: ADMIN.password }, 'email'],
      [{ email: ADMIN.email, password: `${ADMIN.password}\u0000` }, 'password'],
      [{ email: ADMIN.email, password: ADMIN.password, name: 'script\u0000' }, 'name'],
    ] as const) {
      const answer = await call('POST', '/auth/token', body, {});
      expect(answer.status, answer.text).toBe(400);
      expect(answer.json.error?.fields?.[field], answer.text).toMatch(CONTROL);
    }
    expect(await snapshot()).toBe(before);
  });

  it('a NUL in the sign-in form just refuses sign-in', async () => {
    for (const [email, password] of [
      [`${ADMIN.email}\u0000`, ADMIN.password],
      [ADMIN.email, `${ADMIN.password}\u0000`],
    ]) {
      const login = await signInOverHttp(suite.server.url, email!, password!);
      expect(login.status, login.body).toBeLessThan(500);
      // next-auth's plain refusal, as for a wrong password.
      expect(login.body).toContain('CredentialsSignin');
      expect(login.cookie).toBeNull();
    }
    // The right credentials still sign in (nothing above locked the account).
    expect(
      (await signInOverHttp(suite.server.url, ADMIN.email, ADMIN.password)).cookie,
    ).not.toBeNull();
  });

  it('refuses the other C0 control characters in a name too; plain text passes', async () => {
    for (const char of ['\u0001', '\u0007', '\u001b', '\u001f', '\t', '\n']) {
      const answer = await call('POST', '/customers', { name: `Bad${char}name` });
      expect(answer.status, JSON.stringify(char)).toBe(400);
      expect(answer.json.error?.fields?.name).toMatch(CONTROL);
    }
    const fine = await call('POST', '/customers', { name: 'Ωmega 👩‍💻 «Shop»' });
    expect(fine.status, fine.text).toBe(201);
  });

  it('refuses C1 controls and text-direction overrides; keeps the right-to-left marks', async () => {
    // DEL, NEL, CSI (a terminal escape where a log is read), the right-to-left override
    // that shows `x\u202Efdp.exe` as `xexe.pdf`, and a directional isolate.
    for (const char of ['\u007f', '\u0085', '\u009b', '\u202e', '\u2066']) {
      const answer = await call('POST', '/customers', { name: `x${char}fdp.exe` });
      expect(answer.status, JSON.stringify(char)).toBe(400);
      expect(answer.json.error?.fields?.name, JSON.stringify(char)).toMatch(CONTROL);
    }
    const hebrew = await call('POST', '/customers', { name: 'שלום\u200f Ltd' });
    expect(hebrew.status, hebrew.text).toBe(201);
    // A name of nothing visible (zero-width spaces, a no-break space) is no name.
    for (const [path, body, field] of [
      ['/customers', { name: '\u200b\u200b' }, 'name'],
      ['/groups', { name: '\u00a0\u200d', grants: [] }, 'name'],
      ['/cards', { name: '\ufeff\u2060', currency: 'EUR', kind: 'provider' }, 'name'],
    ] as const) {
      const blank = await call('POST', path, body);
      expect(blank.status, `${path} ${blank.text}`).toBe(400);
      expect(blank.json.error?.fields?.[field]).toMatch(/visible character|is required/);
    }
  });

  it('refuses half of a UTF-16 pair in any text or id, naming the field; nothing written', async () => {
    // JSON may escape half a pair (`"\ud800"`). Stored, it became U+FFFD (jsonb refused
    // it outright, naming nothing): what was kept was not what was sent, so two keys or
    // call ids differing only there met as one.
    const before = await snapshot();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/customers', { name: 'K \ud800' }, 'name'],
      [
        'PATCH',
        `/customers/${ids.customer}`,
        { version: versions.customer, name: '\udc00x' },
        'name',
      ],
      [
        'POST',
        `/accounts/${ids.customer}/payments`,
        { amount: '1.00', reference: 'ref \ud800', idempotencyKey: 'surrogate-payment-1' },
        'reference',
      ],
      [
        'POST',
        `/accounts/${ids.customer}/payments`,
        { amount: '1.00', idempotencyKey: 'surrogate-payment-\udbff' },
        'idempotencyKey',
      ],
      [
        'POST',
        '/usage',
        {
          records: [
            {
              id: 'b\ud800',
              accountId: ids.customer,
              number: '441481700123',
              startedAt: new Date(Date.now() - 60_000).toISOString(),
              seconds: 10,
            },
          ],
        },
        'records.0.id',
      ],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await call(method, path, body);
      const what = `${method} ${path} ${JSON.stringify(body)}`;
      expect(answer.status, `${what} → ${answer.text}`).toBe(400);
      expect(answer.json.error?.fields?.[field], `${what} → ${answer.text}`).toMatch(
        /lone UTF-16 surrogate/,
      );
    }
    expect(await snapshot()).toBe(before);
    // A whole pair is a character like any other.
    const emoji = await call('POST', '/customers', { name: 'K \ud83d\ude00' });
    expect(emoji.status, emoji.text).toBe(201);
  });

  it('refuses a JSON body that is not UTF-8, naming the body; nothing written', async () => {
    // Decoded leniently, each bad byte became U+FFFD: keys `k-\xFF` and `k-\xFE` read as
    // one, so the second payment was answered as a replay of the first.
    const before = await snapshot();
    const bodies: [string, string][] = [
      [`/accounts/${ids.customer}/payments`, '{"amount":"1","idempotencyKey":"bytes-key-\xFF"}'],
      ['/customers', '{"name":"K \xFF\xFE"}'],
    ];
    for (const [path, text] of bodies) {
      const bytes = Buffer.from(text, 'latin1');
      // With a declared length (read whole by the router) and streamed in chunks.
      for (const body of [bytes, new Blob([bytes]).stream()]) {
        const response = await fetch(`${suite.server.url}/api/v1${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
          // @ts-expect-error undici needs it for a streamed body; the DOM type lacks it.
          duplex: 'half',
        });
        const answer = await response.json();
        expect([path, response.status]).toEqual([path, 400]);
        expect(answer.error.fields).toEqual({ body: 'is not UTF-8 text' });
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('a CSV import with a NUL in a cell is refused whole, naming the line and the column', async () => {
    const before = await snapshot();
    const csv = 'prefix,destination,rate\n44,UK,0.01\n49,Ger\u0000many,0.02\n33,France,0.03\n';
    const response = await fetch(`${suite.server.url}/api/v1/cards/${ids.card}/rates/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
    const text = await response.text();
    expect(response.status, text).toBe(400);
    const body = JSON.parse(text) as {
      error: { code: string; lines: { line: number; reason: string }[] };
    };
    expect(body.error.code).toBe('invalid_csv');
    expect(body.error.lines).toEqual([
      { line: 3, reason: expect.stringMatching(/^destination .*control character/) },
    ]);
    expect(await snapshot()).toBe(before);
  });
});

describe('route errors under /api/v1 are JSON (item 10)', () => {
  it('an unknown path is a JSON 404 not_found, signed in or not, for any method', async () => {
    for (const [method, path, auth] of [
      ['GET', '/no-such-endpoint', true],
      ['GET', '/no-such-endpoint', false],
      ['POST', '/no-such-endpoint/deeper', true],
      ['GET', `/cards/${ids.card}/nothing-here`, true],
      ['DELETE', '/me/not-a-thing', false],
      ['GET', '/customers/a/b/c/d', true],
    ] as const) {
      const answer = await call(
        method,
        path,
        undefined,
        auth ? { authorization: `Bearer ${token}` } : {},
      );
      const what = `${method} ${path}`;
      expect(answer.status, what).toBe(404);
      expect(answer.headers.get('content-type'), what).toMatch(/^application\/json/);
      expect(answer.json, `${what} → ${answer.text.slice(0, 200)}`).toEqual({
        error: { code: 'not_found', message: expect.any(String) },
      });
    }
  });

  it('a method the path does not serve is a JSON 405 method_not_allowed with Allow', async () => {
    for (const [method, path, allow] of [
      ['POST', '/me', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/cards', 'GET, HEAD, OPTIONS, POST'],
      ['PUT', `/cards/${ids.card}`, 'DELETE, GET, HEAD, OPTIONS, PATCH'],
      ['GET', '/auth/token', 'OPTIONS, POST'],
      ['PATCH', `/cards/${ids.card}/rates/import`, 'OPTIONS, POST'],
      ['POST', '/events', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/openapi.json', 'GET, HEAD, OPTIONS'],
    ] as const) {
      for (const auth of [true, false]) {
        const answer = await call(
          method,
          path,
          undefined,
          auth ? { authorization: `Bearer ${token}` } : {},
        );
        const what = `${method} ${path} (${auth ? 'signed in' : 'anonymous'})`;
        expect(answer.status, what).toBe(405);
        expect(answer.headers.get('allow'), what).toBe(allow);
        expect(answer.headers.get('content-type'), what).toMatch(/^application\/json/);
        expect(answer.json, `${what} → ${answer.text.slice(0, 200)}`).toEqual({
          error: { code: 'method_not_allowed', message: expect.stringContaining(allow) },
        });
      }
    }
  });
});

describe('query parameters an endpoint does not take (review, 2026-12-06)', () => {
  it('are 400 naming each, before anything is read or written', async () => {
    const before = await snapshot();
    // An import asked as a dry run is not run at all: the endpoint has no dry run.
    const imported = await fetch(
      `${suite.server.url}/api/v1/cards/${ids.card}/rates/import?dryRun=true`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: 'prefix,destination,rate\n44,UK,0.0100\n',
      },
    );
    expect(imported.status).toBe(400);
    expect((await imported.json()).error).toMatchObject({
      code: 'invalid_input',
      fields: { dryRun: 'is not a parameter of this endpoint' },
    });
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/customers?limt=1', { limt: 'is not a parameter of this endpoint' }],
      ['GET', '/customers?limit=10&limit=abc', { limit: 'is given more than once' }],
      ['DELETE', `/cards/${ids.card}?force=true`, { force: 'is not a parameter of this endpoint' }],
      ['GET', '/me?x=1&y=2', { x: expect.any(String), y: expect.any(String) }],
    ];
    for (const [method, path, fields] of cases) {
      const answer = await call(method, path);
      expect(answer.status, `${method} ${path} → ${answer.text}`).toBe(400);
      expect(answer.json.error?.fields, `${method} ${path}`).toEqual(fields);
    }
    expect(await snapshot()).toBe(before);
    // What an endpoint takes, once each, is read as before.
    const listed = await call('GET', '/customers?limit=1&sort=name');
    expect(listed.status, listed.text).toBe(200);
  });
});

describe('a body sent to an operation that takes none (review, 2026-12-06)', () => {
  it('is 400 naming what it holds, and nothing is done; none, or {}, is fine', async () => {
    const doomed = await call('POST', '/customers', { name: 'Doomed K' });
    expect(doomed.status).toBe(201);
    const id = (doomed.json as unknown as { id: string }).id;
    const refused = await call('DELETE', `/customers/${id}`, { force: true });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.json.error?.fields).toEqual({ force: 'is not a known field' });
    // The path spelled with an escape is the same operation, held to the same rule.
    const escaped = await call('DELETE', `/cust%6fmers/${id}`, { force: true });
    expect(escaped.status, escaped.text).toBe(400);
    expect((await call('GET', `/customers/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/customers/${id}`, {})).status).toBe(204);
    expect((await call('GET', `/customers/${id}`)).status).toBe(404);
  });
});

describe('a time range that ends before it starts (review, 2026-12-07)', () => {
  it('is 400 naming `to` on every list and export that takes one; a range in order is not', async () => {
    const range = (from: string, to: string) =>
      `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const reversed = range('2026-12-31T00:00:00Z', '2026-01-01T00:00:00Z');
    const ordered = range('2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z');
    for (const path of [
      '/usage?',
      '/usage/export?',
      '/usage/summary?by=account&',
      `/accounts/${ids.customer}/ledger?`,
      `/accounts/${ids.customer}/ledger/export?`,
      '/audit?',
      '/audit/export?',
    ]) {
      const refused = await call('GET', `${path}${reversed}`);
      expect([path, refused.status]).toEqual([path, 400]);
      expect([path, refused.json.error?.fields]).toEqual([path, { to: 'must not be before from' }]);
      expect([path, (await call('GET', `${path}${ordered}`)).status]).toEqual([path, 200]);
    }
  });
});

describe('values the server makes from what it was sent (review, 2026-12-05)', () => {
  it('a user named by a long email’s local part gets the first 200 characters', async () => {
    const local = 'a'.repeat(240);
    const made = await call('POST', '/users', {
      email: `${local}@input.test`,
      password: 'input-user-password',
      accountId: ids.reseller,
      groupId: ids.group,
    });
    expect(made.status, made.text).toBe(201);
    expect((made.json as unknown as { name: string }).name).toBe(local.slice(0, 200));
  });

  it('a notice naming a card cut at its length keeps whole characters', async () => {
    // "Card <name> assigned to your account" cut to 200 units split the emoji at 199–200:
    // its change-log row was refused, and the card could never be assigned there.
    const name = `${'x'.repeat(194)}\u{1F600}yyyy`;
    const card = await call('POST', '/cards', { name, currency: 'EUR', kind: 'customer' });
    expect(card.status, card.text).toBe(201);
    const cardId = (card.json as unknown as { id: string }).id;
    const assigned = await call('POST', '/assignments', { cardId, accountId: ids.reseller });
    expect(assigned.status, assigned.text).toBe(201);
  });

  it('an email that lower case lengthens past 320 is simply not signed in', async () => {
    // 'İ' lower-cases to two code points: 320 of them become 640.
    const answer = await call('POST', '/auth/token', { email: 'İ'.repeat(320), password: 'x' }, {});
    expect(answer.status, answer.text).toBe(401);
    expect(answer.json.error?.code).toBe('invalid_credentials');
  });
});

describe('a password that is no secret', () => {
  it('twelve spaces, or one key held down, is 400 naming the field; nothing is written', async () => {
    for (const password of [' '.repeat(12), `${' '.repeat(11)}x`, 'a'.repeat(16)]) {
      const made = await call('POST', '/users', {
        email: 'weak@input.test',
        password,
        accountId: ids.reseller,
        groupId: ids.group,
      });
      expect(made.status, made.text).toBe(400);
      expect(made.json.error?.fields).toHaveProperty('password');
      const reset = await call('PATCH', `/users/${ids.user}`, {
        version: versions.user,
        password,
      });
      expect(reset.status, reset.text).toBe(400);
      expect(reset.json.error?.fields).toHaveProperty('password');
      const changed = await call('POST', '/me/password', {
        currentPassword: ADMIN.password,
        newPassword: password,
      });
      expect(changed.status, changed.text).toBe(400);
      expect(changed.json.error?.fields).toHaveProperty('newPassword');
    }
    const users = await call('GET', '/users?q=weak%40input.test');
    expect((users.json as unknown as { items: unknown[] }).items).toEqual([]);
  });
});
