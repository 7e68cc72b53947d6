import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { hashToken } from '@/lib/server/auth/api-token';
import { CREDENTIAL_PATH, ridingSql } from '@/lib/server/auth/door';
import type { TActor } from '@/lib/server/authz/actor';
import { tokenActorSql } from '@/lib/server/authz/actor';
import { positional } from '@/lib/server/db/direct-query';
import {
  authorizeStatement,
  decide,
  type TAuthorizeLevel,
} from '@/lib/server/services/calls/authorize-call';

/**
 * The API bench's floor (issue 14), forked with an IPC channel and DATABASE_URL: plain
 * `node:http` and `pg`, no framework, no ORM — the same token check (one query) and the
 * same statements as the panel's `GET` and `PATCH /customers/{id}` with its change-log
 * row, answering the same DTO. What the panel's server CPU costs beyond this is what
 * its framework, ORM and per-request work add. `POST /api/v1/authorize` (issue 18) sends
 * the panel's one statement (the token check with the decision riding in it) and makes
 * the same decision, without the door's gates beyond the grant or any validation.
 */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
// The panel reads numeric as strings too (money stays exact).
const TOKEN_SQL = tokenActorSql('t.token_hash', '$1');
const INSTANCE = randomUUID();

interface TAccountRow {
  id: string;
  version: number;
  created_at: Date;
  updated_at: Date;
  name: string;
  email: string | null;
  path: string;
  status: string;
  credit_limit: string | null;
  balance: string;
}

const ancestorIds = (path: string) => path.split('/').filter(Boolean);

async function actorFor(req: IncomingMessage, db: pg.ClientBase | pg.Pool) {
  const match = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
  if (!match) return null;
  const { rows } = await db.query(TOKEN_SQL, [hashToken(match[1]!)]);
  const row = rows[0] as { user_id: string; account_id: string; account_path: string } | undefined;
  return row ?? null;
}

async function findCustomer(
  db: pg.ClientBase | pg.Pool,
  actor: { account_id: string; account_path: string },
  id: string,
) {
  const { rows } = await db.query<TAccountRow>(
    `select "a0".* from "account" as "a0" where "a0"."kind" = 'customer' and "a0"."path" like $1
        and "a0"."id" != $2 and "a0"."id" = $3 limit 1`,
    [`${actor.account_path}%`, actor.account_id, id],
  );
  const account = rows[0];
  if (!account) return null;
  const suspended = await db.query<{ id: string }>(
    `select id from account where status = 'suspended' and id = any($1::uuid[])`,
    [ancestorIds(account.path)],
  );
  return { account, suspended: new Set(suspended.rows.map((row) => row.id)) };
}

function customerDto(account: TAccountRow, suspended: Set<string>) {
  const ids = ancestorIds(account.path);
  return {
    id: account.id,
    version: account.version,
    createdAt: account.created_at.toISOString(),
    updatedAt: account.updated_at.toISOString(),
    name: account.name,
    email: account.email,
    parentId: ids[ids.length - 2]!,
    status: ids.some((id) => suspended.has(id)) ? 'suspended' : 'active',
    creditLimit: account.credit_limit === null ? null : Number(account.credit_limit).toFixed(6),
    balance: Number(account.balance).toFixed(6),
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text) as Record<string, unknown>;
}

async function get(req: IncomingMessage, res: ServerResponse, id: string) {
  const actor = await actorFor(req, pool);
  if (!actor) return send(res, 401, { error: { code: 'unauthenticated' } });
  const found = await findCustomer(pool, actor, id);
  if (!found) return send(res, 404, { error: { code: 'not_found' } });
  send(res, 200, customerDto(found.account, found.suspended));
}

async function patch(req: IncomingMessage, res: ServerResponse, id: string) {
  const body = await readJson(req);
  const actor = await actorFor(req, pool);
  if (!actor) return send(res, 401, { error: { code: 'unauthenticated' } });
  const actorRow = actor as unknown as { user_id: string; account_id: string };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const found = await findCustomer(client, actor, id);
    if (!found) {
      await client.query('ROLLBACK');
      return send(res, 404, { error: { code: 'not_found' } });
    }
    const before = customerDto(found.account, found.suspended);
    const updatedAt = new Date();
    const updated = await client.query<{ version: number }>(
      `update "account" set "credit_limit" = $1, "updated_at" = $2, "version" = "version" + 1
        where "id" = $3 and "version" = $4 returning "version"`,
      [String(body.creditLimit), updatedAt, id, body.version],
    );
    if (!updated.rows[0]) {
      await client.query('ROLLBACK');
      return send(res, 409, { error: { code: 'conflict', current: before } });
    }
    const after = {
      ...before,
      version: updated.rows[0].version,
      updatedAt: updatedAt.toISOString(),
      creditLimit: Number(body.creditLimit).toFixed(6),
    };
    const scope = ancestorIds(found.account.path).slice(0, -1).join('/') + '/';
    // The panel's own last statement: the carrier's head bumped (its lock held to commit),
    // the NOTIFY, the row at that position — one round trip.
    await client.query(
      `with head as materialized (
         insert into carrier_log_head as h (carrier_id, seq) values ($8, 1)
         on conflict (carrier_id) do update set seq = h.seq + excluded.seq
         returning carrier_id, seq),
       notified as materialized (select pg_notify('change_log', $9))
       insert into change_log (at, carrier_id, carrier_seq, actor_user_id, actor_account_id,
         impersonator_user_id, resource, entity_id, op, version, before, after, scope_before,
         scope_after, summary)
       select clock_timestamp(), head.carrier_id, head.seq, $1, $2, null, 'customers', $3,
         'updated', $4, $5::jsonb, $6::jsonb, $7, $7, null
         from notified cross join head`,
      [
        actorRow.user_id,
        actorRow.account_id,
        id,
        after.version,
        JSON.stringify(before),
        JSON.stringify(after),
        scope,
        ancestorIds(found.account.path)[0],
        INSTANCE,
      ],
    );
    await client.query('COMMIT');
    send(res, 200, after);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function authorize(req: IncomingMessage, res: ServerResponse) {
  const body = (await readJson(req)) as { accountId: string; number: string };
  const match = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
  if (!match) return send(res, 401, { error: { code: 'unauthenticated' } });
  const riding = authorizeStatement(CREDENTIAL_PATH, body);
  const text = ridingSql(riding.sql);
  const values = [hashToken(match[1]!), ...riding.params];
  const { rows } = await pool.query({ name: 'authorize', text: positional(text, values), values });
  const row = rows[0] as
    { account_path: string; grants: string[]; ridden: TAuthorizeLevel[] | null } | undefined;
  if (!row) return send(res, 401, { error: { code: 'unauthenticated' } });
  if (!row.grants.includes('calls:authorize'))
    return send(res, 403, { error: { code: 'forbidden' } });
  if (!row.ridden?.length) return send(res, 404, { error: { code: 'not_found' } });
  const actor = { account: { path: row.account_path } } as TActor;
  send(res, 200, decide(actor, row.ridden));
}

const http = createServer((req, res) => {
  if (req.url === '/api/v1/authorize' && req.method === 'POST') {
    authorize(req, res).catch((error: unknown) => {
      console.error('floor server:', error);
      if (!res.headersSent) send(res, 500, { error: { code: 'internal' } });
    });
    return;
  }
  const match = /^\/api\/v1\/customers\/([0-9a-f-]{36})$/.exec(req.url ?? '');
  const work = !match
    ? Promise.resolve(send(res, 404, { error: { code: 'not_found' } }))
    : req.method === 'GET'
      ? get(req, res, match[1]!)
      : req.method === 'PATCH'
        ? patch(req, res, match[1]!)
        : Promise.resolve(send(res, 405, { error: { code: 'method_not_allowed' } }));
  work.catch((error: unknown) => {
    console.error('floor server:', error);
    if (!res.headersSent) send(res, 500, { error: { code: 'internal' } });
  });
});

process.on('message', async (command: { type: 'close' }) => {
  if (command.type === 'close') {
    http.close();
    await pool.end();
    process.exit(0);
  }
});

http.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (http.address() as AddressInfo).port });
});
