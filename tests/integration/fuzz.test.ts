import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { io } from 'socket.io-client';
import { API_OPERATION_LIST } from '@/lib/server/api/registry';
import { API_ROUTES } from '@/lib/server/api/routes';
import { JSON_BODY_LIMIT } from '@/lib/server/api/body-limit';
import { MESSAGE_BURST, MESSAGES_PER_SECOND } from '@/server/client-message';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';

/**
 * Hostile input (issue 7): ≥ 10,000 malformed or hostile requests across every endpoint
 * of the API and every socket message — wrong types, huge and deep bodies, unicode, SQL
 * and script fragments, foreign, malformed and deleted ids, expired, revoked and forged
 * tokens — and the server answers each with a 4xx (never a 5xx), never shows a stack
 * trace, and writes nothing: the change log (every write's record) does not move and
 * every table keeps its rows. Each request carries at least one hostile part, so none
 * of them may succeed as a write. Replay with `FUZZ_SEED=…` (printed on failure).
 *
 * Issue 13: every text field of every documented body and every query parameter also
 * comes with a NUL or another control character in it (bodies shaped by the operation's
 * own schema, so the control character is what must be refused: 400, not the 500 it
 * was), CSV imports carry one in a cell, and requests go to unknown /api/v1 paths (JSON
 * 404 `not_found`) and with methods a path does not serve (JSON 405 with `Allow`).
 */
const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'fuzz-reseller-pass';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

const ids = {} as Record<string, string>;
/**
 * The carrier admin's own entities: a write to one of them with a control character in
 * every text field gets past scope, so validation alone must refuse it.
 */
const own = {} as Record<'reseller' | 'customer' | 'user' | 'group' | 'card', string>;
const tokens = {} as Record<'admin' | 'reseller' | 'expired' | 'revoked', string>;

const HOSTILE_STRINGS = [
  "' or 1=1 --",
  "'; drop table account; --",
  '"); select pg_sleep(5); --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${process.exit()}',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  '\uFFFF\uD800',
  'Ω≈ç√∫˜µ≤≥÷',
  '👩‍💻🏳️‍🌈',
  'ﷺ'.repeat(50),
  '=cmd|"/c calc"!A1',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '1e309',
  '9'.repeat(400),
  'a'.repeat(20_000),
];

/** NUL and other C0 control characters; tab and line breaks stay out: free text may hold them. */
const CONTROL_CHARS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u001f',
];

/** `text` with a control character put somewhere in it (start, middle or end). */
function withControl(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(text, fc.constantFrom(...CONTROL_CHARS), fc.nat()).map(([value, char, at]) => {
    const index = at % (value.length + 1);
    return value.slice(0, index) + char + value.slice(index);
  });
}

/**
 * A string as a path segment (a lone surrogate cannot be percent-encoded: U+FFFD). "." and ".."
 * are dot segments the URL parser removes before sending, even percent-encoded, so
 * `/resellers/.` would be a request for the list, not for a hostile id: they get a suffix.
 */
function pathSegment(value: string): string {
  const segment = encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
  return segment === '.' || segment === '..' ? `${segment}x` : segment;
}

/** Ids that are not one the caller may touch: malformed, unknown, another reseller's. */
function hostileId(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS.map(pathSegment)),
    fc.constant('00000000-0000-0000-0000-000000000000'),
    fc.uuid().map(String),
    fc
      .constantFrom('peerCustomer', 'peerReseller', 'peerUser', 'peerCard', 'peerGroup')
      .map((key) => ids[key]!),
    fc.string({ minLength: 1, maxLength: 40 }).map(pathSegment),
    withControl(fc.uuid().map(String)).map(pathSegment),
  );
}

/** Any JSON value, hostile strings and deep or wide shapes included. */
function hostileJson(): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string(),
    withControl(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...HOSTILE_STRINGS))),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  return fc.oneof(
    fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(
          fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'version', 'id')),
          tie('value'),
          { maxKeys: 6 },
        ),
      ),
    })).value,
    // Deeply nested.
    fc
      .integer({ min: 50, max: 300 })
      .map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))),
  );
}

type TJsonSchema = {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  allOf?: TJsonSchema[];
  anyOf?: TJsonSchema[];
  oneOf?: TJsonSchema[];
  items?: TJsonSchema;
  properties?: Record<string, TJsonSchema>;
};

/** A plausible value for a string field, so that its control character is all that is wrong. */
function plausibleText(schema: TJsonSchema): fc.Arbitrary<string> {
  const patterns = [schema.pattern, ...(schema.allOf ?? []).map((part) => part.pattern)].join(' ');
  if (schema.enum) return fc.constantFrom(...schema.enum.map(String));
  if (schema.format === 'uuid') {
    return fc.oneof(fc.constantFrom(...Object.values(own)), fc.uuid().map(String));
  }
  if (schema.format === 'email') return fc.constant('ctl@fuzz.test');
  if (schema.format === 'date-time') return fc.constant('2030-01-01T00:00:00Z');
  if (patterns.includes('A-Z]{3}')) return fc.constant('EUR');
  if (patterns.includes('\\d')) return fc.constantFrom('44', '12.5', '0.0123');
  return fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('Name', 'London, UK', 'why'));
}

/**
 * A body shaped by the operation's own request schema (every field present) in which every
 * string, enum values and constants included, holds a control character: none can pass.
 */
function controlledBody(schema: TJsonSchema): fc.Arbitrary<unknown> {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map(controlledBody));
  if (typeof schema.const === 'string') return withControl(fc.constant(schema.const));
  if (schema.const !== undefined) return fc.constant(schema.const);
  switch (schema.type) {
    case 'object':
      return fc.record(
        Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([key, value]) => [
            key,
            controlledBody(value),
          ]),
        ),
      );
    case 'array':
      return fc.array(controlledBody(schema.items ?? {}), { minLength: 1, maxLength: 2 });
    case 'string':
      return withControl(plausibleText(schema));
    case 'integer':
    case 'number':
      return fc.integer({ min: 1, max: 90 });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.constant(null);
  }
}

/** Whether `value` holds a string with a control character (one is enough to refuse it). */
function hasControl(value: unknown): boolean {
  if (typeof value === 'string') return CONTROL_CHARS.some((char) => value.includes(char));
  if (value && typeof value === 'object') return Object.values(value).some(hasControl);
  return false;
}

/** A rates CSV whose one bad thing is a control character in one of its cells. */
function controlledCsv(): fc.Arbitrary<string> {
  const cells = ['44', 'London, UK', '0.0123', '0.01', '60', '60', '0', '', 'false'];
  return fc
    .tuple(fc.nat({ max: cells.length - 1 }), withControl(fc.constant('')))
    .map(([column, char]) => {
      const row = cells.map((cell, index) => (index === column ? `${cell}${char}` : cell));
      if (column === 1) row[1] = `"${row[1]}"`;
      return `prefix,destination,rate,connectionFee,initialIncrement,increment,graceSeconds,effectiveFrom,blocked\n${row.join(',')}\n`;
    });
}

type TRequest = {
  method: string;
  path: string;
  query: string;
  auth: 'admin' | 'reseller' | 'expired' | 'revoked' | 'forged' | 'none' | 'cookie';
  body:
    | { kind: 'json'; value: unknown; controlled?: true }
    | { kind: 'raw'; text: string; type: string; controlled?: true }
    | null;
  /** What exactly must come back, where the request leaves one answer only. */
  expect?: { status: number; code: string; allow?: string };
};

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Paged lists: `limit` must be 1..500. */
const LISTS = new Set([
  '/resellers',
  '/customers',
  '/users',
  '/groups',
  '/cards',
  '/assignments',
  '/audit',
]);

/** What the OpenAPI document says an operation takes. */
interface TOperationInput {
  /** The JSON request body's schema, if it takes one. */
  body?: TJsonSchema;
  /** A text/csv body (the rates import). */
  csv?: boolean;
  /** Its query parameters' names. */
  query: string[];
}

/** Query parameter names tried everywhere, besides each operation's own. */
const QUERY_NAMES = [
  'limit',
  'cursor',
  'q',
  'prefix',
  'since',
  'accountId',
  'number',
  'mode',
  'kind',
  'resource',
  'op',
  'entityId',
  'seconds',
  'losing',
];

/** A concrete path: `{id}` as given, a revision's `{n}` as revision 1 (every card has one). */
function fill(path: string, id: string): string {
  return path.replace('{id}', id).replace('{n}', '1');
}

/** Which own entity a path's `{id}` names (writes with a controlled body only). */
function ownIdFor(path: string): string | undefined {
  const resource = path.split('/')[1];
  const key = (
    {
      resellers: 'reseller',
      customers: 'customer',
      users: 'user',
      groups: 'group',
      cards: 'card',
    } as const
  )[resource as 'cards'];
  return key ? own[key] : undefined;
}

/**
 * One hostile request for an operation. A write with a valid token always carries an
 * invalid body or an id it may not touch, so no request can legitimately change data.
 * A controlled body (a control character in every text field) is invalid by itself.
 */
function requestFor(path: string, method: string, input: TOperationInput): fc.Arbitrary<TRequest> {
  const hasId = path.includes('{id}');
  const names = [...new Set([...QUERY_NAMES, ...input.query])];
  const controlled: fc.Arbitrary<TRequest['body'] & object>[] = [];
  if (input.body) {
    controlled.push(
      controlledBody(input.body)
        .filter(hasControl)
        .map((value) => ({ kind: 'json' as const, value, controlled: true as const })),
    );
  }
  if (input.csv) {
    controlled.push(
      controlledCsv().map((text) => ({
        kind: 'raw' as const,
        text,
        type: 'text/csv',
        controlled: true as const,
      })),
    );
  }
  return fc
    .record({
      // Valid callers most of the time, so the input reaches validation and scope.
      auth: fc.oneof(
        { arbitrary: fc.constant('admin' as const), weight: 2 },
        { arbitrary: fc.constant('reseller' as const), weight: 2 },
        fc.constantFrom('expired', 'revoked', 'forged', 'none', 'cookie') as fc.Arbitrary<
          TRequest['auth']
        >,
      ),
      id: hostileId(),
      // A controlled write goes to the admin's own entity this often (past scope).
      ownTarget: fc.boolean(),
      query: fc.oneof(
        fc.constant(''),
        fc
          .dictionary(
            fc.constantFrom(...names),
            fc.oneof(
              fc.constantFrom(...HOSTILE_STRINGS),
              fc.string({ maxLength: 30 }),
              fc.integer().map(String),
              withControl(fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String))),
            ),
            { maxKeys: 4 },
          )
          .map((params) => new URLSearchParams(params as Record<string, string>).toString()),
      ),
      controlText: withControl(fc.string({ maxLength: 10 })),
      body: fc.oneof(
        ...controlled.map((arbitrary) => ({ arbitrary, weight: 2 })),
        hostileJson().map((value) => ({ kind: 'json' as const, value })),
        fc
          .oneof(
            fc.constantFrom(
              '{',
              '{"a":',
              'nul',
              '[1,2',
              '\u0000\u0001',
              'prefix,destination,rate\n1,x,NaN',
            ),
            fc.string({ maxLength: 200 }),
            controlledCsv(),
          )
          .chain((text) =>
            fc
              .constantFrom(
                'application/json',
                'text/csv',
                'text/plain',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
              )
              .map((type) => ({ kind: 'raw' as const, text, type })),
          ),
      ),
    })
    .map(({ auth, id, ownTarget, query, controlText, body }) => {
      const concrete = fill(path, id);
      const request: TRequest = {
        method,
        path: `/api/v1${concrete}`,
        query,
        auth,
        body: method === 'GET' || method === 'DELETE' ? null : body,
      };
      const isControlled = request.body?.controlled === true;
      const validCaller = auth === 'admin' || auth === 'reseller';
      // Where the body reaches validation: a valid caller's request, or the public one.
      const validated = validCaller || path === '/auth/token';
      // A valid caller writing must still be refused. Without an id in the path, the
      // body is one no schema passes. The peer's ids are foreign to the reseller, but
      // the carrier admin may touch them: for its writes, an id that exists nowhere.
      if (WRITE.has(method) && validCaller && !hasId && !isControlled) {
        request.body = {
          kind: 'raw',
          text: '{"__proto__":{"polluted":1},',
          type: 'application/json',
        };
      }
      if (auth === 'admin' && hasId && Object.values(ids).includes(id)) {
        request.path = `/api/v1${fill(path, '00000000-0000-4000-8000-000000000000')}`;
      }
      // A controlled write by the admin to its own entity: only validation stands in the
      // way, and it must answer 400 (the 500 of issue 13 was a NUL reaching the database).
      const mine = ownIdFor(path);
      const toOwn = isControlled && auth === 'admin' && hasId && ownTarget && mine !== undefined;
      if (toOwn) {
        request.path = `/api/v1${fill(path, mine)}`;
        // A version the write names is state, not input: a stale one is 409 before the
        // body is read (a rates import refuses it without streaming the file), so it
        // would stand in validation's way.
        const kept = new URLSearchParams(request.query);
        kept.delete('version');
        request.query = kept.toString();
      }
      // The query may be bad too (400 `invalid_input` as well); a CSV's lines: `invalid_csv`.
      // A query too long for Node's header limit is refused before any of it (431).
      if (isControlled && validated && (!hasId || toOwn) && query.length < 4000) {
        request.expect = { status: 400, code: input.csv ? '' : 'invalid_input' };
      }
      // A valid caller reading without an id: a query no list accepts (a control
      // character in its cursor or number), or, where an endpoint takes no input at all
      // (`/me`), a token that is not one.
      if (method === 'GET' && validCaller && !hasId) {
        const extra = LISTS.has(path)
          ? `cursor=${encodeURIComponent(controlText)}`
          : path === '/rates/lookup'
            ? `number=${encodeURIComponent(controlText)}`
            : path === '/events'
              ? 'since=-1'
              : null;
        if (extra) request.query = `${query}${query ? '&' : ''}${extra}`;
        else request.auth = 'forged';
      }
      return request;
    });
}

/** A hostile id short enough that the request line stays under Node's limit (431 beyond). */
function shortHostileId(): fc.Arbitrary<string> {
  return hostileId().filter((id) => id.length < 2000);
}

/** Paths that hold a static segment no route has: each is a 404 for any method. */
function unknownPath(paths: readonly string[]): fc.Arbitrary<string> {
  const word = fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((text) => `zz-${text}`);
  return fc.oneof(
    fc
      .tuple(word, fc.array(word, { maxLength: 2 }))
      .map(([first, more]) => `/${[first, ...more].join('/')}`),
    // Below an item (no route has two parameters in a row) or two segments deeper.
    fc
      .tuple(fc.constantFrom(...paths), word, shortHostileId(), fc.boolean())
      .map(([path, extra, id, deeper]) => {
        const concrete = fill(path, id);
        return path.endsWith('{id}') && !deeper
          ? `${concrete}/${extra}`
          : `${concrete}/${extra}/${extra}`;
      }),
  );
}

/** `Allow` as the API states it: the route's methods, HEAD with GET, and OPTIONS. */
function expectedAllow(methods: readonly string[]): string {
  const allowed = new Set([...methods, 'OPTIONS', ...(methods.includes('GET') ? ['HEAD'] : [])]);
  return [...allowed].sort().join(', ');
}

/** Requests the API's routes do not serve: unknown paths, and methods a path does not take. */
function routeErrorRequest(): fc.Arbitrary<TRequest> {
  const paths = Object.keys(API_ROUTES);
  const unserved = Object.entries(API_ROUTES).flatMap(([path, methods]) =>
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
      .filter((method) => !methods.includes(method))
      .map((method) => ({ path, method, allow: expectedAllow(methods) })),
  );
  const auth = fc.constantFrom('admin', 'reseller', 'none', 'forged') as fc.Arbitrary<
    TRequest['auth']
  >;
  const body = fc.oneof(
    fc.constant(null),
    hostileJson().map((value) => ({ kind: 'json' as const, value })),
  );
  return fc.oneof(
    fc
      .record({
        path: unknownPath(paths),
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        auth,
        body,
      })
      .map(({ path, method, auth, body }) => ({
        method,
        path: `/api/v1${path}`,
        query: '',
        auth,
        body: method === 'GET' || method === 'DELETE' || method === 'OPTIONS' ? null : body,
        expect: { status: 404, code: 'not_found' },
      })),
    fc
      .record({ target: fc.constantFrom(...unserved), id: shortHostileId(), auth, body })
      .map(({ target, id, auth, body }) => ({
        method: target.method,
        path: `/api/v1${fill(target.path, id)}`,
        query: '',
        auth,
        body: target.method === 'GET' || target.method === 'DELETE' ? null : body,
        expect: { status: 405, code: 'method_not_allowed', allow: target.allow },
      })),
  );
}

async function send(
  request: TRequest,
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (request.auth === 'cookie') {
    headers.cookie = `next-auth.session-token=${'x'.repeat(40)}; __Secure-next-auth.session-token=forged`;
  } else if (request.auth === 'forged') {
    headers.authorization = `Bearer rpt_${'A'.repeat(43)}`;
  } else if (request.auth !== 'none') {
    headers.authorization = `Bearer ${tokens[request.auth]}`;
  }
  let body: string | undefined;
  if (request.body?.kind === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body.value);
  } else if (request.body?.kind === 'raw') {
    headers['content-type'] = request.body.type;
    body = request.body.text;
  }
  const response = await fetch(
    `${suite.server.url}${request.path}${request.query ? `?${request.query}` : ''}`,
    { method: request.method, headers, body },
  );
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Why an answer is not the one `request.expect` names, or null. */
function unexpected(
  request: TRequest,
  answer: { status: number; text: string; headers: Headers },
): string | null {
  const expected = request.expect;
  if (!expected) return null;
  if (answer.status !== expected.status) return `expected ${expected.status}`;
  if (!/^application\/json/.test(answer.headers.get('content-type') ?? '')) return 'not JSON';
  let code: unknown;
  try {
    code = (JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code;
  } catch {
    return 'not JSON';
  }
  if (expected.code && code !== expected.code) return `expected code ${expected.code}`;
  if (expected.allow !== undefined && answer.headers.get('allow') !== expected.allow) {
    return `expected Allow: ${expected.allow}, got ${answer.headers.get('allow')}`;
  }
  return null;
}

/** What the server holds: every table's row count and the change log's head. */
async function snapshot(): Promise<Record<string, number>> {
  const em = suite.orm.em.fork();
  const tables = await em.execute<{ name: string }[]>(
    `select tablename as name from pg_tables where schemaname = current_schema()
      and tablename not in ('mikro_orm_migrations', 'login_throttle', 'login_ip_throttle',
        'password_change_throttle') order by tablename`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const rows = await em.execute<{ count: string }[]>(`select count(*) as count from "${name}"`);
    counts[name] = Number(rows[0]!.count);
  }
  const head = await em.execute<{ seq: string | null }[]>('select max(seq) as seq from change_log');
  counts['change_log.head'] = Number(head[0]!.seq ?? 0);
  return counts;
}

const STACK = /\n\s+at |\bat [\w$.<>]+ \(|node_modules|\.tsx?:\d+|\.js:\d+:\d+/;

beforeAll(async () => {
  const admin = await requestToken(suite.server.url, ADMIN.email, ADMIN.password);
  tokens.admin = admin.body.token;
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${suite.server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return response.status === 204 ? null : response.json();
  };
  const group = await call(tokens.admin, 'POST', '/groups', { template: 'default-reseller' });
  const mine = await call(tokens.admin, 'POST', '/resellers', {
    name: 'Fuzz A',
    email: 'a@fuzz.test',
  });
  const peer = await call(tokens.admin, 'POST', '/resellers', {
    name: 'Fuzz B',
    email: 'b@fuzz.test',
  });
  for (const [email, accountId] of [
    ['a@fuzz.test', mine.id],
    ['b@fuzz.test', peer.id],
    ['c@fuzz.test', mine.id],
    ['d@fuzz.test', mine.id],
  ]) {
    const user = await call(tokens.admin, 'POST', '/users', {
      email,
      password: PASSWORD,
      accountId,
      groupId: group.id,
    });
    ids[email] = user.id;
  }
  tokens.reseller = (await requestToken(suite.server.url, 'a@fuzz.test', PASSWORD)).body.token;
  Object.assign(own, {
    group: group.id,
    reseller: mine.id,
    user: ids['a@fuzz.test'],
    customer: (await call(tokens.admin, 'POST', '/customers', { name: 'Fuzz own shop' })).id,
    card: (
      await call(tokens.admin, 'POST', '/cards', {
        name: 'Own card',
        currency: 'EUR',
        kind: 'provider',
      })
    ).id,
  });
  const peerToken = (await requestToken(suite.server.url, 'b@fuzz.test', PASSWORD)).body.token;
  ids.peerReseller = (
    await call(peerToken, 'POST', '/resellers', { name: 'Fuzz B1', email: 'b1@fuzz.test' })
  ).id;
  ids.peerCustomer = (await call(peerToken, 'POST', '/customers', { name: 'Fuzz B shop' })).id;
  ids.peerCard = (
    await call(peerToken, 'POST', '/cards', { name: 'B card', currency: 'EUR', kind: 'customer' })
  ).id;
  ids.peerGroup = (
    await call(peerToken, 'POST', '/groups', { name: 'B staff', grants: ['customers:read'] })
  ).id;
  ids.peerUser = ids['b@fuzz.test']!;
  // An expired token (its time ran out) and a revoked one (deleted by its owner).
  tokens.expired = (await requestToken(suite.server.url, 'c@fuzz.test', PASSWORD)).body.token;
  await suite.orm.em
    .fork()
    .execute(`update api_token set expires_at = now() - interval '1 minute' where user_id = ?`, [
      ids['c@fuzz.test'],
    ]);
  const revoked = await requestToken(suite.server.url, 'd@fuzz.test', PASSWORD);
  tokens.revoked = revoked.body.token;
  await fetch(`${suite.server.url}/api/v1/tokens/${revoked.body.id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${tokens.revoked}` },
  });
});

describe('hostile input', () => {
  it(`${REQUESTS} malformed or hostile requests across every endpoint: only 4xx, no stack trace, nothing written`, async () => {
    const before = await snapshot();
    type TSpecOperation = {
      parameters?: { name: string; in: string }[];
      requestBody?: { content: Record<string, { schema: TJsonSchema }> };
    };
    const spec = (await (await fetch(`${suite.server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, TSpecOperation>>;
    };
    const operations: [string, string, TOperationInput][] = [];
    // Every operation of the route registry that takes something hostile: a credential,
    // a body or a query (the public OpenAPI document takes none of them).
    for (const { path, method, op } of API_OPERATION_LIST) {
      if (op.public && !op.body && !op.query && !op.csvBody) continue;
      const documented = spec.paths[path]?.[method.toLowerCase()];
      operations.push([
        path,
        method,
        {
          body: documented?.requestBody?.content['application/json']?.schema,
          csv: Boolean(documented?.requestBody?.content['text/csv']),
          query: (documented?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        },
      ]);
    }
    const requests = fc.oneof(
      ...operations.map(([path, method, input]) => requestFor(path, method, input)),
      // Unknown paths and unserved methods: about one request in ten.
      { arbitrary: routeErrorRequest(), weight: Math.ceil(operations.length / 9) },
    );
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
    const sample = fc.sample(requests, { numRuns: REQUESTS, seed });
    const failures: string[] = [];
    const statuses: Record<string, number> = {};
    /** Requests whose exact answer was checked, by the status expected. */
    const checked: Record<string, number> = {};
    let index = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = index++; i < sample.length; i = index++) {
          const request = sample[i]!;
          const answer = await send(request);
          const { status, text } = answer;
          statuses[status] = (statuses[status] ?? 0) + 1;
          const what = `${request.method} ${JSON.stringify(request.path.slice(0, 120))} (${request.auth})`;
          if (status < 400 || status >= 500)
            failures.push(`${what} → ${status} ${text.slice(0, 200)}`);
          if (STACK.test(text)) failures.push(`${what} → a stack trace: ${text.slice(0, 300)}`);
          const wrong = unexpected(request, answer);
          if (wrong) {
            const body = request.body?.kind === 'json' ? request.body.value : request.body?.text;
            failures.push(
              `${what} ${JSON.stringify(body)?.slice(0, 160)} → ${status} ${text.slice(0, 200)}: ${wrong}`,
            );
          }
          if (request.expect)
            checked[request.expect.status] = (checked[request.expect.status] ?? 0) + 1;
        }
      }),
    );
    // Oversized bodies: declared and streamed.
    const huge = 'x'.repeat(JSON_BODY_LIMIT + 10);
    const declared = await fetch(`${suite.server.url}/api/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: huge }),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    const streamed = await fetch(`${suite.server.url}/api/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: new Blob([JSON.stringify({ name: huge })]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    // Outside /api/v1 next-auth reads a body whole, whatever its size: one streamed with
    // no declared length is refused before anything reads it.
    const unbounded = await fetch(`${suite.server.url}/api/auth/callback/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new Blob([`email=a%40b.test&password=${huge}`]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(unbounded.status).toBe(411);
    expect(await unbounded.json()).toMatchObject({ error: { code: 'length_required' } });

    console.log(
      `fuzz: ${sample.length} requests over ${operations.length} operations (seed ${seed}); statuses ${JSON.stringify(statuses)}; exact answers checked ${JSON.stringify(checked)}`,
    );
    // The generator reaches what issue 13 is about, each in good number.
    expect(checked[400] ?? 0).toBeGreaterThan(REQUESTS / 50);
    expect(checked[404] ?? 0).toBeGreaterThan(REQUESTS / 100);
    expect(checked[405] ?? 0).toBeGreaterThan(REQUESTS / 100);
    expect(failures.slice(0, 20), `replay with FUZZ_SEED=${seed}`).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 300_000);

  it('hostile socket messages: refused or ignored, the connection and the server unharmed', async () => {
    const before = await snapshot();
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: tokens.reseller },
    });
    await new Promise((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    });
    const payloads = fc.sample(
      fc
        .oneof(
          hostileJson(),
          fc.record({
            topic: fc.oneof(
              fc.constantFrom(...HOSTILE_STRINGS),
              fc.string(),
              withControl(fc.constantFrom('page:customers', `customers:${ids.peerCustomer}`)),
            ),
          }),
          fc.record({ since: withControl(fc.constant('1')), limit: fc.integer() }),
          fc.constantFrom(
            ...['customers', 'cards', 'groups', 'users', 'resellers'].map((kind) => ({
              topic: `${kind}:${ids.peerCustomer}`,
            })),
          ),
        )
        // Under the message limit (tested on its own below).
        .filter((payload) => (JSON.stringify(payload) ?? '').length < 8000),
      { numRuns: 1000, seed: 42 },
    );
    type TAnswer = { ok: boolean; error?: { code: string }; page?: { items: unknown[] } };
    const joins: TAnswer[] = [];
    const catchUps: TAnswer[] = [];
    const events = [
      'presence:join',
      'presence:leave',
      'events:since',
      'change',
      'hello',
      '__proto__',
    ];
    for (const [index, payload] of payloads.entries()) {
      const event = events[index % events.length]!;
      if (!event.includes(':')) {
        // Events the server does not listen to: nothing happens, nothing answers.
        socket.emit(event, payload);
        continue;
      }
      const ack = await new Promise<TAnswer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 5000);
        socket.emit(event, payload, (answer: TAnswer) => {
          clearTimeout(timer);
          resolve(answer);
        });
      });
      if (event === 'presence:join') joins.push(ack);
      if (event === 'events:since') catchUps.push(ack);
    }
    // No hostile or foreign topic is ever joined; each refusal says why.
    expect(joins.length).toBe(Math.ceil(payloads.length / events.length));
    expect(joins.filter((ack) => ack.ok)).toEqual([]);
    expect(joins.every((ack) => typeof ack.error?.code === 'string')).toBe(true);
    // Catch-up requests: a page for a well-formed one, `invalid_input` for the rest.
    expect(catchUps.length).toBeGreaterThan(100);
    for (const ack of catchUps) {
      if (ack.ok) expect(Array.isArray(ack.page?.items)).toBe(true);
      else expect(ack.error?.code).toBe('invalid_input');
    }
    expect(socket.connected).toBe(true);
    // A message over the size limit closes only that connection.
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    socket.emit('presence:join', { topic: 'x'.repeat(64 * 1024) });
    await closed;
    expect((await fetch(`${suite.server.url}/api/ready`)).status).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  it('a flood of well-formed socket messages is paced, then refused; the socket recovers', async () => {
    const socket = io(suite.server.url, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: tokens.reseller },
    });
    const hello = await new Promise<{ seq: number }>((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    });
    type TAnswer = { ok: boolean; error?: { code: string } };
    const ask = () =>
      socket.timeout(15_000).emitWithAck('events:since', { since: hello.seq }) as Promise<TAnswer>;
    // Sent together, faster than any client pages: MESSAGE_BURST answered at once, as many
    // again in turn at MESSAGES_PER_SECOND, the rest refused.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 4 * MESSAGE_BURST }, ask));
    const answered = answers.filter((answer) => answer.ok).length;
    expect(answered).toBeGreaterThanOrEqual(2 * MESSAGE_BURST);
    expect(answered).toBeLessThan(4 * MESSAGE_BURST);
    expect(
      answers.filter((answer) => !answer.ok).every((answer) => answer.error?.code === 'throttled'),
    ).toBe(true);
    // The ones over the rate waited their turn: about MESSAGE_BURST / MESSAGES_PER_SECOND s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(
      ((MESSAGE_BURST - 2) / MESSAGES_PER_SECOND) * 1000,
    );
    // One message at a time, as a catch-up pages, is never refused: paced at the rate.
    for (let page = 0; page < 5; page++) expect((await ask()).ok).toBe(true);
    // Malformed messages cost only their parse: still told what is wrong.
    const malformed = (await socket
      .timeout(5000)
      .emitWithAck('events:since', { since: 'x' })) as TAnswer;
    expect(malformed.error?.code).toBe('invalid_input');
    expect(socket.connected).toBe(true);
    socket.disconnect();
  });
});
