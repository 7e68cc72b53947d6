import { beforeAll, describe, expect, it } from 'vitest';
import { Account, Group, User, type TAccount, type TGroup } from '@/lib/server/entities';
import { DEFAULT_RESELLER_GRANTS, type TGrant } from '@/lib/shared/permissions';
import { createCarrier } from '@/lib/server/services/accounts/create-carrier';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { addAccount, addGroup, addUser } from '../fixtures/accounts';
import { arrange } from '../fixtures/arrange';

/**
 * The user-management cells of the access matrix (DESIGN §1 "Managing users", issue 13
 * item 1): every caller × every user × reset / disable / enable / delete / change-group / rename,
 * against a rule written here, apart from the server's. A refusal leaves the user's row
 * exactly as it was; an allowed change is undone behind the API's back before the next
 * cell, so every cell starts from the same database.
 */
const PASSWORD = 'user-matrix-password';
const ADMIN = { email: 'admin@c1.test', password: 'c1-admin-password' };

const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

interface TPerson {
  email: string;
  id: string;
  account: TAccount;
  group: TGroup;
}
interface TCaller extends TPerson {
  auth: { authorization: string };
}
const people: TPerson[] = [];
const callers: TCaller[] = [];
/** Per carrier: a narrow group every account of that carrier may use (the change-group target). */
const narrow = new Map<string, TGroup>();

beforeAll(async () => {
  const em = suite.orm.em.fork();
  const c1 = await em.findOneOrFail(Account, { kind: 'carrier' });
  const c2 = (
    await createCarrier(em, { name: 'C2', adminEmail: 'admin@c2.test', adminPassword: PASSWORD })
  ).carrier;
  const r1 = await addAccount(em, c1, 'reseller', 'R1');
  const r1a = await addAccount(em, r1, 'reseller', 'R1a');
  const r2 = await addAccount(em, c1, 'reseller', 'R2');
  const admins = await em.findOneOrFail(Group, { account: c1, name: 'Carrier administrators' });
  const c2Admins = await em.findOneOrFail(Group, { account: c2, name: 'Carrier administrators' });
  // The takeover of the report: a helpdesk group with only users:read + users:update.
  const helpdesk = await addGroup(em, c1, 'Helpdesk', ['users:read', 'users:update']);
  const userAdmin = await addGroup(em, c1, 'User admins', [
    'users:read',
    'users:update',
    'users:delete',
    'customers:read',
  ]);
  const reseller = await addGroup(em, c1, 'Default Reseller', [...DEFAULT_RESELLER_GRANTS]);
  const resellerPlus = await addGroup(em, c1, 'Reseller with delete', [
    ...DEFAULT_RESELLER_GRANTS,
    'users:delete',
  ]);
  const staff = await addGroup(em, r1, 'R1 staff', ['customers:read']);
  narrow.set(c1.id, await addGroup(em, c1, 'Narrow C1', ['customers:read']));
  narrow.set(c2.id, await addGroup(em, c2, 'Narrow C2', ['customers:read']));

  const add = async (email: string, account: TAccount, group: TGroup) => {
    const user = await addUser(em, { account, group, email, password: PASSWORD });
    people.push({ email, id: user.id, account, group });
  };
  people.push({
    email: ADMIN.email,
    id: (await em.findOneOrFail(User, { email: ADMIN.email })).id,
    account: c1,
    group: admins,
  });
  people.push({
    email: 'admin@c2.test',
    id: (await em.findOneOrFail(User, { email: 'admin@c2.test' })).id,
    account: c2,
    group: c2Admins,
  });
  await add('helpdesk@c1.test', c1, helpdesk);
  await add('useradmin@c1.test', c1, userAdmin);
  await add('admin@r1.test', r1, resellerPlus);
  await add('second@r1.test', r1, reseller);
  await add('staff@r1.test', r1, staff);
  await add('admin@r1a.test', r1a, resellerPlus);
  await add('admin@r2.test', r2, resellerPlus);

  for (const email of [
    ADMIN.email,
    'admin@c2.test',
    'helpdesk@c1.test',
    'useradmin@c1.test',
    'admin@r1.test',
    'second@r1.test',
    'admin@r1a.test',
  ]) {
    const person = people.find((p) => p.email === email)!;
    const password = email === ADMIN.email ? ADMIN.password : PASSWORD;
    const issued = await requestToken(suite.server.url, email, password);
    expect([email, issued.status]).toEqual([email, 201]);
    callers.push({ ...person, auth: { authorization: `Bearer ${issued.body.token}` } });
  }
});

type TAction = 'reset' | 'disable' | 'enable' | 'change-group' | 'rename' | 'delete';
const ACTIONS: TAction[] = ['reset', 'disable', 'enable', 'change-group', 'rename', 'delete'];

/**
 * The rule, written apart from the server's: 403 `forbidden` without the action's grant,
 * 404 outside the caller's subtree, 403 `escalation` on oneself or on a user whose group
 * holds a grant the caller lacks, else allowed. A rename of oneself is allowed: one's own
 * name is one's own, another's only under the same rule (a poorer user may not relabel a
 * richer one).
 */
function expected(caller: TCaller, target: TPerson, action: TAction) {
  const grant: TGrant = action === 'delete' ? 'users:delete' : 'users:update';
  const grants = caller.group.grants as TGrant[];
  if (!grants.includes(grant)) return { status: 403, code: 'forbidden' };
  if (!target.account.path.startsWith(caller.account.path))
    return { status: 404, code: 'not_found' };
  if (caller.id === target.id) {
    return action === 'rename' ? { status: 200 } : { status: 403, code: 'escalation' };
  }
  const lacking = target.group.grants.filter((g) => !grants.includes(g as TGrant));
  // The grants are named only where the caller may read the group: one its own subtree
  // owns, with groups:read (a group above it that it may not use is no one's to describe).
  const shown =
    target.group.account.path.startsWith(caller.account.path) && grants.includes('groups:read');
  if (lacking.length) {
    return { status: 403, code: 'escalation', lacking: shown ? lacking.sort() : [] };
  }
  return { status: action === 'delete' ? 204 : 200 };
}

interface TUserRow {
  password_hash: string;
  status: string;
  group_id: string;
  session_version: number;
  must_change_password: boolean;
  version: number;
  name: string;
}
const readRow = async (id: string) =>
  (
    await suite.orm.em
      .fork()
      .getConnection()
      .execute<TUserRow[]>(
        `select password_hash, status, group_id, session_version, must_change_password,
                version, name
           from app_user where id = ?`,
        [id],
      )
  )[0];

async function restore(id: string, row: TUserRow) {
  const em = suite.orm.em.fork();
  await arrange(em, () =>
    em.execute(
      `update app_user set password_hash = ?, status = ?, group_id = ?, session_version = ?,
              must_change_password = ?, version = ?, name = ?
        where id = ?`,
      [
        row.password_hash,
        row.status,
        row.group_id,
        row.session_version,
        row.must_change_password,
        row.version,
        row.name,
        id,
      ],
    ),
  );
}

async function act(caller: TCaller, target: TPerson, action: TAction, version: number) {
  const body: Record<TAction, unknown> = {
    reset: { version, password: 'a-new-temporary-password' },
    disable: { version, status: 'disabled' },
    enable: { version, status: 'active' },
    'change-group': {
      version,
      groupId: narrow.get(target.account.path.split('/').filter(Boolean)[0]!)!.id,
    },
    rename: { version, name: 'Renamed by the matrix' },
    delete: undefined,
  };
  const response = await fetch(`${suite.server.url}/api/v1/users/${target.id}`, {
    method: action === 'delete' ? 'DELETE' : 'PATCH',
    headers: { ...caller.auth, 'content-type': 'application/json' },
    body: action === 'delete' ? undefined : JSON.stringify(body[action]),
  });
  return {
    status: response.status,
    body: response.status === 204 ? null : await response.json(),
  };
}

describe('user management: no takeover of a richer user', () => {
  it('every caller × user × reset/disable/enable/change-group/rename/delete follows the rule', async () => {
    let refused = 0;
    let allowed = 0;
    for (const caller of callers) {
      for (const target of people) {
        for (const action of ACTIONS) {
          const want = expected(caller, target, action);
          const original = (await readRow(target.id))!;
          const tokens = await readTokens(target.id);
          // "Enable" acts on a disabled user (never the caller: it could not call at all).
          if (action === 'enable' && target.id !== caller.id) {
            await restore(target.id, { ...original, status: 'disabled' });
          }
          const before = (await readRow(target.id))!;
          const got = await act(caller, target, action, before.version);
          const cell = [caller.email, target.email, action];
          expect([...cell, got.status]).toEqual([...cell, want.status]);
          if (want.status >= 400) {
            refused += 1;
            expect([...cell, got.body.error.code]).toEqual([...cell, want.code]);
            if (want.lacking) {
              expect([...cell, [...got.body.error.grants].sort()]).toEqual([...cell, want.lacking]);
            }
            // Nothing changed: the refusal wrote nothing.
            expect([...cell, await readRow(target.id)]).toEqual([...cell, before]);
          } else {
            allowed += 1;
            const after = await readRow(target.id);
            if (action === 'delete') expect([...cell, after]).toEqual([...cell, undefined]);
            else expect([...cell, after]).not.toEqual([...cell, before]);
          }
          if (action === 'delete' && got.status === 204) {
            await recreate(target, original, tokens);
          } else {
            await restore(target.id, original);
          }
        }
      }
    }
    // Both sides of the rule were exercised, including the report's takeover.
    expect(refused).toBeGreaterThan(100);
    expect(allowed).toBeGreaterThan(30);
  });

  it('the helpdesk cannot reset the carrier admin’s password and sign in as them', async () => {
    const helpdesk = callers.find((c) => c.email === 'helpdesk@c1.test')!;
    const admin = people.find((p) => p.email === ADMIN.email)!;
    const before = (await readRow(admin.id))!;
    const reset = await act(helpdesk, admin, 'reset', before.version);
    expect(reset).toMatchObject({
      status: 403,
      // Without groups:read it is not told which grants: only that the group holds more.
      body: {
        error: {
          code: 'escalation',
          grants: [],
          message: "This user's group holds grants you do not.",
        },
      },
    });
    expect(
      (await requestToken(suite.server.url, ADMIN.email, 'a-new-temporary-password')).status,
    ).toBe(401);
    expect((await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).status).toBe(201);
  });

  it('GET /users/{id}/manageable answers the same rule', async () => {
    for (const caller of callers) {
      for (const target of people) {
        const want = expected(caller, target, 'reset');
        const response = await fetch(`${suite.server.url}/api/v1/users/${target.id}/manageable`, {
          headers: caller.auth,
        });
        const cell = [caller.email, target.email];
        // Every caller here holds users:read and users:update; outside scope reads as absent.
        if (want.status === 404) {
          expect([...cell, response.status]).toEqual([...cell, 404]);
          continue;
        }
        const body = await response.json();
        expect([...cell, body.manageable, body.reason, [...body.lacking].sort()]).toEqual([
          ...cell,
          want.status < 400,
          want.status < 400 ? null : caller.id === target.id ? 'self' : 'escalation',
          want.lacking ?? [],
        ]);
      }
    }
  });
});

const readTokens = (userId: string) =>
  suite.orm.em
    .fork()
    .getConnection()
    .execute<Record<string, unknown>[]>('select * from api_token where user_id = ?', [userId]);

/** Puts a user deleted by an allowed cell back, with the same id, row and API tokens. */
async function recreate(target: TPerson, row: TUserRow, tokens: Record<string, unknown>[]) {
  const em = suite.orm.em.fork();
  await arrange(em, async () => {
    await em.execute(
      `insert into app_user (id, account_id, group_id, email, name, password_hash, status,
                             must_change_password, session_version, version, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), now())`,
      [
        target.id,
        target.account.id,
        row.group_id,
        target.email,
        row.name,
        row.password_hash,
        row.status,
        row.must_change_password,
        row.session_version,
        row.version,
      ],
    );
    for (const token of tokens) {
      const columns = Object.keys(token);
      await em.execute(
        `insert into api_token (${columns.map((c) => `"${c}"`).join(', ')})
         values (${columns.map(() => '?').join(', ')})`,
        columns.map((c) => token[c]),
      );
    }
  });
}
