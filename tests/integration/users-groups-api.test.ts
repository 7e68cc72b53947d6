import { beforeAll, describe, expect, it } from 'vitest';
import { Group, User } from '@/lib/server/entities';
import { DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';
import { signInOverHttp } from '../fixtures/http-login';

const ADMIN = { email: 'admin@carrier.test', password: 'carrier-admin-pass' };
const PASSWORD = 'reseller-password-1';

let admin: TApiClient;
let carrierId: string;

const suite = usePanelSuite({
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
});

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  carrierId = (await admin.get('/me')).body.account.id;
});

const count = (entity: typeof Group | typeof User) =>
  entity === Group ? suite.orm.em.fork().count(Group, {}) : suite.orm.em.fork().count(User, {});

describe("the seed's workflow through the API", () => {
  let groupId: string;
  let resellerId: string;
  let reseller: TApiClient;

  it('creates a group from the Default Reseller template', async () => {
    const response = await admin.post('/groups', { template: 'default-reseller' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      name: 'Default Reseller',
      accountId: carrierId,
      template: 'default-reseller',
      useOnly: false,
    });
    expect([...response.body.grants].sort()).toEqual([...DEFAULT_RESELLER_GRANTS].sort());
    groupId = response.body.id;
  });

  it('adds a reseller account and a reseller user with that group', async () => {
    const account = await admin.post('/resellers', { name: 'Acme Voice', email: 'ops@acme.test' });
    expect(account.status).toBe(201);
    resellerId = account.body.id;
    const user = await admin.post('/users', {
      email: 'Ops@Acme.test',
      password: PASSWORD,
      accountId: resellerId,
      groupId,
    });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({
      email: 'ops@acme.test',
      accountId: resellerId,
      groupId,
      status: 'active',
      mustChangePassword: false,
    });
    expect(user.body).not.toHaveProperty('passwordHash');
  });

  it('the reseller signs in and sees only its own account, users and customers', async () => {
    await admin.post('/customers', { name: 'Carrier Direct' });
    reseller = await apiClient(suite.server.url, 'ops@acme.test', PASSWORD);
    expect((await reseller.get('/me')).body.account).toEqual({
      id: resellerId,
      name: 'Acme Voice',
      kind: 'reseller',
      status: 'active',
    });
    const mine = await reseller.post('/customers', { name: 'Hotel Alpine' });
    expect(mine.body.parentId).toBe(resellerId);
    expect(
      (await reseller.get('/customers')).body.items.map((c: { name: string }) => c.name),
    ).toEqual(['Hotel Alpine']);
    expect((await reseller.get('/resellers')).body.items).toEqual([]);
    expect(
      (await reseller.get('/users')).body.items.map((u: { email: string }) => u.email),
    ).toEqual(['ops@acme.test']);
    // The carrier's group is use-only to it: name and grants, nothing more.
    const groups = (await reseller.get('/groups')).body.items;
    expect(groups).toEqual([
      {
        id: groupId,
        name: 'Default Reseller',
        grants: expect.any(Array),
        useOnly: true,
        version: expect.any(Number),
      },
    ]);
  });

  it("lists a group's members among the users in scope, nobody else", async () => {
    const own = (await admin.get('/me')).body.group.id as string;
    const emails = async (client: TApiClient, group: string) =>
      (await client.get(`/users?groupId=${group}`)).body.items.map(
        (user: { email: string }) => user.email,
      );
    expect(await emails(admin, groupId)).toEqual(['ops@acme.test']);
    expect(await emails(admin, own)).toEqual([ADMIN.email]);
    // The carrier's administrators are no members the reseller may see.
    expect(await emails(reseller, own)).toEqual([]);
    expect(await emails(reseller, groupId)).toEqual(['ops@acme.test']);
    const bad = await admin.get('/users?groupId=nope');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields)).toEqual(['groupId']);
  });

  it('no escalation: a reseller cannot create, edit or assign beyond its own grants', async () => {
    const before = { groups: await count(Group), users: await count(User) };
    const create = await reseller.post('/groups', {
      name: 'Sneaky',
      grants: ['customers:read', 'impersonation:start'],
    });
    expect(create).toMatchObject({
      status: 403,
      body: { error: { code: 'escalation', grants: ['impersonation:start'] } },
    });

    const own = await reseller.post('/groups', { name: 'Acme staff', grants: ['customers:read'] });
    expect(own.status).toBe(201);
    const edit = await reseller.patch(`/groups/${own.body.id}`, {
      version: own.body.version,
      grants: ['customers:read', 'audit:delete'],
    });
    expect(edit).toMatchObject({ status: 403, body: { error: { code: 'escalation' } } });
    expect((await suite.orm.em.fork().findOneOrFail(Group, { id: own.body.id })).grants).toEqual([
      'customers:read',
    ]);

    // The carrier's own admin group holds more than the reseller: it cannot hand it out,
    // and, as it cannot see it, is told it is not there — not which grants it holds.
    const adminGroup = await suite.orm.em
      .fork()
      .findOneOrFail(Group, { name: 'Carrier administrators' });
    const assign = await reseller.post('/users', {
      email: 'boss@acme.test',
      password: PASSWORD,
      accountId: resellerId,
      groupId: adminGroup.id,
    });
    expect(assign).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await reseller.get(`/groups/${adminGroup.id}`)).status).toBe(404);

    // A group of its own account that holds a grant it lacks (made by the carrier): it may
    // neither drop that grant nor edit the group otherwise.
    const wide = await admin.post('/groups', {
      name: 'Acme wide',
      grants: ['customers:read', 'impersonation:start'],
      accountId: resellerId,
    });
    expect(wide.status).toBe(201);
    for (const patch of [{ grants: ['customers:read'] }, { name: 'Acme narrow' }]) {
      const edit = await reseller.patch(`/groups/${wide.body.id}`, {
        version: wide.body.version,
        ...patch,
      });
      expect(edit).toMatchObject({
        status: 403,
        body: { error: { code: 'escalation', grants: ['impersonation:start'] } },
      });
    }
    // Nor may one of its people who deletes groups delete it, though nobody uses it: what
    // they may not edit, they may not destroy.
    const tidy = await admin.post('/groups', {
      name: 'Acme tidy',
      grants: ['groups:read', 'groups:delete'],
      accountId: resellerId,
    });
    const tidier = await admin.post('/users', {
      email: 'tidy@acme.test',
      password: PASSWORD,
      accountId: resellerId,
      groupId: tidy.body.id,
    });
    expect(tidier.status).toBe(201);
    const tidyClient = await apiClient(suite.server.url, 'tidy@acme.test', PASSWORD);
    expect(await tidyClient.del(`/groups/${wide.body.id}`)).toMatchObject({
      status: 403,
      body: { error: { code: 'escalation', grants: ['customers:read', 'impersonation:start'] } },
    });
    expect(await suite.orm.em.fork().findOneOrFail(Group, { id: wide.body.id })).toMatchObject({
      name: 'Acme wide',
      grants: ['customers:read', 'impersonation:start'],
    });
    expect((await admin.del(`/groups/${wide.body.id}`)).status).toBe(204);

    // An ancestor's group is use-only.
    const editAncestor = await reseller.patch(`/groups/${groupId}`, {
      version: 1,
      name: 'Mine now',
    });
    expect(editAncestor).toMatchObject({ status: 403, body: { error: { code: 'use_only' } } });
    expect({ groups: await count(Group), users: await count(User) }).toEqual({
      groups: before.groups + 2,
      users: before.users + 1,
    });
  });

  it("cannot give a user a group it may not use (a sub-account's group)", async () => {
    const sub = await reseller.post('/resellers', { name: 'Acme East', email: 'east@acme.test' });
    const subGroup = await reseller.post('/groups', {
      name: 'East staff',
      grants: ['customers:read'],
      accountId: sub.body.id,
    });
    expect(subGroup.status).toBe(201);
    const response = await reseller.post('/users', {
      email: 'x@acme.test',
      password: PASSWORD,
      accountId: resellerId,
      groupId: subGroup.body.id,
    });
    expect(response.status).toBe(404);
    expect(await suite.orm.em.fork().count(User, { email: 'x@acme.test' })).toBe(0);
  });

  it('a bad group names its field, though a group is made from grants or a template', async () => {
    const before = await count(Group);
    for (const [body, fields] of [
      [{ name: 'G', grants: ['nope'] }, { 'grants.0': 'is not a grant in the catalog' }],
      [{ name: 'G' }, { grants: 'must be a list of grants' }],
      [{ template: 'nope' }, { template: expect.stringMatching(/^must be one of /) }],
    ] as const) {
      const refused = await admin.post('/groups', body);
      expect(refused, JSON.stringify(body)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_input' } },
      });
      expect(refused.body.error.fields, JSON.stringify(body)).toEqual(fields);
    }
    expect(await count(Group)).toBe(before);
    // A name another group of the account has: 409 naming it, made or renamed.
    const taken = { name: 'Name taken once', grants: ['customers:read'] };
    expect((await admin.post('/groups', taken)).status).toBe(201);
    const again = await admin.post('/groups', taken);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'duplicate',
      fields: { name: 'is taken by another group of this account' },
    });
    const other = await admin.post('/groups', { name: 'Name taken twice', grants: [] });
    const renamed = await admin.patch(`/groups/${other.body.id}`, {
      version: other.body.version,
      name: taken.name,
    });
    expect(renamed.status).toBe(409);
    expect(renamed.body.error.fields).toEqual({
      name: 'is taken by another group of this account',
    });
  });

  it('a group in use cannot be deleted; a user cannot lose its group', async () => {
    const inUse = await admin.del(`/groups/${groupId}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({
      code: 'group_in_use',
      dependants: [{ resource: 'users', name: 'ops@acme.test' }],
    });
    const user = (await admin.get('/users')).body.items.find(
      (u: { email: string }) => u.email === 'ops@acme.test',
    );
    const remove = await admin.patch(`/users/${user.id}`, { version: user.version, groupId: null });
    expect(remove).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_input', fields: { groupId: expect.any(String) } } },
    });
    expect(
      (await suite.orm.em.fork().findOneOrFail(User, { id: user.id }, { populate: ['group'] }))
        .group.id,
    ).toBe(groupId);
  });

  it('a group in use names its users only to a caller who may read users', async () => {
    // A keeper of groups who may not read people: the refusal says users hold the group,
    // not who (their ids and emails are what GET /users refuses it).
    const keepers = await admin.post('/groups', {
      name: 'Group keepers',
      grants: ['groups:read', 'groups:create', 'groups:delete'],
    });
    const account = await admin.post('/resellers', { name: 'Keepers Ltd', email: 'k@k.test' });
    await admin.post('/users', {
      email: 'keeper@keepers.test',
      password: PASSWORD,
      accountId: account.body.id,
      groupId: keepers.body.id,
    });
    const keeper = await apiClient(suite.server.url, 'keeper@keepers.test', PASSWORD);
    expect((await keeper.get('/users')).status).toBe(403);
    const own = await keeper.post('/groups', { name: 'Readers', grants: ['groups:read'] });
    expect(own.status).toBe(201);
    const held = await admin.post('/users', {
      email: 'held@keepers.test',
      password: PASSWORD,
      accountId: account.body.id,
      groupId: own.body.id,
    });
    expect(held.status).toBe(201);

    const refused = await keeper.del(`/groups/${own.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'group_in_use' });
    expect(refused.body.error.dependants).toEqual([{ resource: 'users', id: '', name: '' }]);
    expect(JSON.stringify(refused.body)).not.toContain('held@keepers.test');
    expect(JSON.stringify(refused.body)).not.toContain(held.body.id);
    // Whoever reads users is told who, as before.
    expect((await admin.del(`/groups/${own.body.id}`)).body.error.dependants).toEqual([
      { resource: 'users', id: held.body.id, name: 'held@keepers.test' },
    ]);
  });

  it("changing a user's group takes effect on its session at once, without ending it", async () => {
    const fresh = await apiClient(suite.server.url, 'ops@acme.test', PASSWORD);
    expect((await fresh.get('/me')).status).toBe(200);
    const staff = await admin.post('/groups', {
      name: 'Reseller read-only',
      grants: ['customers:read', 'users:read'],
    });
    const user = (await admin.get('/users')).body.items.find(
      (u: { email: string }) => u.email === 'ops@acme.test',
    );
    const moved = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      groupId: staff.body.id,
    });
    expect(moved.status).toBe(200);
    const me = await fresh.get('/me');
    expect(me.status).toBe(200);
    expect(me.body.grants).toEqual(['customers:read', 'users:read']);
    // What the old group allowed and the new one does not is refused on the same session.
    expect((await fresh.post('/customers', { name: 'Not any more' })).status).toBe(403);
  });

  it('an admin password reset makes the user change it at next sign-in', async () => {
    const user = (await admin.get('/users')).body.items.find(
      (u: { email: string }) => u.email === 'ops@acme.test',
    );
    const reset = await admin.patch(`/users/${user.id}`, {
      version: user.version,
      password: 'temporary-pass-1',
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body.mustChangePassword).toBe(true);
    expect((await signInOverHttp(suite.server.url, 'ops@acme.test', PASSWORD)).cookie).toBeNull();
    const client = await apiClient(suite.server.url, 'ops@acme.test', 'temporary-pass-1');
    expect((await client.get('/me')).body.user.mustChangePassword).toBe(true);
    expect(await client.get('/customers')).toMatchObject({
      status: 403,
      body: { error: { code: 'password_change_required' } },
    });
    const wrong = await client.post('/me/password', {
      currentPassword: 'nope',
      newPassword: 'brand-new-password',
    });
    expect(wrong).toMatchObject({
      status: 400,
      body: { error: { fields: { currentPassword: expect.any(String) } } },
    });
    const changed = await client.post('/me/password', {
      currentPassword: 'temporary-pass-1',
      newPassword: 'brand-new-password',
    });
    expect(changed.status).toBe(204);
    expect((await client.get('/customers')).status).toBe(200);
    expect(
      (await signInOverHttp(suite.server.url, 'ops@acme.test', 'brand-new-password')).cookie,
    ).not.toBeNull();
  });

  it('users are audited within scope, naming people only to those who may read them', async () => {
    const audit = await admin.get('/audit?resource=users');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(3);
    // The first admin was created at first start, by no signed-in person.
    const byPeople = audit.body.items.filter(
      (item: { actor: { name: string } }) => item.actor.name !== 'System',
    );
    expect(byPeople.length).toBe(audit.body.items.length - 1);
    expect(byPeople.every((item: { actor: { kind: string } }) => item.actor.kind === 'user')).toBe(
      true,
    );
  });
});

describe('groups are explainable: what a user can see, without signing in as them', () => {
  const ids = {} as Record<'group' | 'A' | 'A1' | 'B' | 'ua' | 'ub' | 'K', string>;
  let ua: TApiClient;
  let ub: TApiClient;
  const names = (items: { name: string }[]) => items.map((item) => item.name).sort();
  const idsOf = (items: { id: string }[]) => items.map((item) => item.id).sort();

  beforeAll(async () => {
    ids.group = (
      await admin.post('/groups', { template: 'default-reseller', name: 'Explained' })
    ).body.id;
    ids.A = (
      await admin.post('/resellers', { name: 'Explain A', email: 'a@explain.test' })
    ).body.id;
    ids.A1 = (
      await admin.post('/resellers', {
        name: 'Explain A1',
        email: 'a1@explain.test',
        parentId: ids.A,
      })
    ).body.id;
    ids.B = (
      await admin.post('/resellers', { name: 'Explain B', email: 'b@explain.test' })
    ).body.id;
    await admin.post('/customers', { name: 'A shop', parentId: ids.A });
    await admin.post('/customers', { name: 'A1 shop', parentId: ids.A1 });
    await admin.post('/customers', { name: 'B shop', parentId: ids.B });
    for (const [key, account] of [
      ['ua', ids.A],
      ['ub', ids.B],
    ] as const) {
      const created = await admin.post('/users', {
        email: `${key}@explain.test`,
        password: PASSWORD,
        accountId: account,
        groupId: ids.group,
      });
      expect(created.status).toBe(201);
      ids[key] = created.body.id;
    }
    ids.K = (
      await admin.post('/cards', { name: 'Retail K', currency: 'EUR', kind: 'customer' })
    ).body.id;
    expect((await admin.post('/assignments', { cardId: ids.K, accountId: ids.A })).status).toBe(
      201,
    );
    ua = await apiClient(suite.server.url, 'ua@explain.test', PASSWORD);
    ub = await apiClient(suite.server.url, 'ub@explain.test', PASSWORD);
    expect(
      (await ua.post('/cards', { name: 'A upstream', currency: 'EUR', kind: 'provider' })).status,
    ).toBe(201);
  });

  it("equals the user's own answers: grants, accounts and cards, with the card relation", async () => {
    const access = await admin.get(`/users/${ids.ua}/access`);
    expect(access.status).toBe(200);
    expect(access.body).toMatchObject({
      user: { id: ids.ua, email: 'ua@explain.test' },
      account: { id: ids.A, name: 'Explain A', kind: 'reseller' },
      group: { id: ids.group, name: 'Explained' },
      denied: null,
    });
    expect([...access.body.grants].sort()).toEqual([...DEFAULT_RESELLER_GRANTS].sort());
    expect(names(access.body.resellers.items)).toEqual(['Explain A1']);
    expect(names(access.body.customers.items)).toEqual(['A shop', 'A1 shop']);
    expect(access.body.cards.items).toEqual(
      expect.arrayContaining([
        { id: ids.K, name: 'Retail K', kind: 'provider', relation: 'assigned' },
        expect.objectContaining({ name: 'A upstream', kind: 'provider', relation: 'owner' }),
      ]),
    );
    // The oracle is the user's own panel, asked directly.
    for (const [section, path] of [
      ['resellers', '/resellers'],
      ['customers', '/customers'],
      ['cards', '/cards'],
    ] as const) {
      const own = (await ua.get(`${path}?limit=500`)).body.items;
      expect(idsOf(access.body[section].items), section).toEqual(idsOf(own));
      expect(access.body[section].total, section).toBe(own.length);
    }
  });

  it('says why a user has no access at all', async () => {
    const user = (await admin.get(`/users/${ids.ub}`)).body;
    await admin.patch(`/users/${ids.ub}`, { version: user.version, status: 'disabled' });
    const access = await admin.get(`/users/${ids.ub}/access`);
    expect(access.body).toMatchObject({
      denied: 'user_disabled',
      grants: [],
      resellers: { total: 0, items: [], notGranted: true },
      cards: { total: 0, items: [], notGranted: true },
    });
    const now = (await admin.get(`/users/${ids.ub}`)).body;
    await admin.patch(`/users/${ids.ub}`, { version: now.version, status: 'active' });
    ub = await apiClient(suite.server.url, 'ub@explain.test', PASSWORD);
  });

  it('never shows more than the viewer may read itself, and nothing outside its scope', async () => {
    const narrow = await admin.post('/groups', {
      name: 'Explainers',
      grants: ['users:read', 'groups:read', 'resellers:read'],
    });
    await admin.post('/users', {
      email: 'explainer@carrier.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: narrow.body.id,
    });
    const explainer = await apiClient(suite.server.url, 'explainer@carrier.test', PASSWORD);
    const access = (await explainer.get(`/users/${ids.ua}/access`)).body;
    expect(names(access.resellers.items)).toEqual(['Explain A1']);
    expect(access.customers).toEqual({ hiddenFrom: 'viewer', grant: 'customers:read' });
    expect(access.cards).toEqual({ hiddenFrom: 'viewer', grant: 'cards:read' });

    // A peer reseller does not learn the user exists; a caller without groups:read is refused.
    const outsider = await ub.get(`/users/${ids.ua}/access`);
    expect(outsider).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const noGroups = await admin.post('/groups', { name: 'Users only', grants: ['users:read'] });
    await admin.post('/users', {
      email: 'usersonly@carrier.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: noGroups.body.id,
    });
    const usersOnly = await apiClient(suite.server.url, 'usersonly@carrier.test', PASSWORD);
    expect(await usersOnly.get(`/users/${ids.ua}/access`)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden', message: expect.stringContaining('groups:read') } },
    });
    // A colleague at A whose group A made: it may explain ua, but ua's group belongs to
    // the carrier and is not one it may assign — neither its name nor its grants, nor what
    // they let ua see, though the colleague may read every section itself: which of them
    // held a list and which "not granted" would tell the grants another way.
    const readers = await ua.post('/groups', {
      name: 'A readers',
      grants: ['users:read', 'groups:read', 'resellers:read', 'customers:read', 'cards:read'],
    });
    expect(readers.status).toBe(201);
    expect(
      (
        await ua.post('/users', {
          email: 'reader@explain.test',
          password: PASSWORD,
          accountId: ids.A,
          groupId: readers.body.id,
        })
      ).status,
    ).toBe(201);
    const reader = await apiClient(suite.server.url, 'reader@explain.test', PASSWORD);
    const colleague = (await reader.get(`/users/${ids.ua}/access`)).body;
    expect(colleague).toMatchObject({ group: null, grants: null, denied: null });
    expect(JSON.stringify(colleague)).not.toContain('Explained');
    for (const section of ['resellers', 'customers', 'cards']) {
      expect([section, colleague[section]]).toEqual([section, { hiddenFrom: 'group' }]);
    }
    expect(JSON.stringify(colleague)).not.toContain('A1 shop');
    // Its own group, owned by its account, it sees, and what it lets it see.
    const readerId = (await reader.get('/me')).body.user.id;
    const itself = (await reader.get(`/users/${readerId}/access`)).body;
    expect(itself.group).toEqual({ id: readers.body.id, name: 'A readers' });
    expect([...itself.grants].sort()).toEqual([
      'cards:read',
      'customers:read',
      'groups:read',
      'resellers:read',
      'users:read',
    ]);
    expect(names(itself.customers.items)).toEqual(['A shop', 'A1 shop']);

    const malformed = await admin.get('/users/not-an-id/access');
    expect(malformed.status).toBe(404);
  });
});

describe("the carrier's administrators", () => {
  it('cannot all lose a grant by a group edit: nobody above could give it back', async () => {
    const me = (await admin.get('/me')).body;
    const own = (await admin.get(`/groups/${me.group.id}`)).body;
    const fewer = own.grants.filter((grant: string) => grant !== 'groups:update');
    const refused = await admin.patch(`/groups/${own.id}`, { version: own.version, grants: fewer });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'last_administrator',
      fields: { grants: expect.any(String) },
    });
    expect((await admin.get(`/groups/${own.id}`)).body.grants).toEqual(own.grants);

    // With another active administrator in a group of every grant, the edit may go: that
    // one can give it back.
    const full = await admin.post('/groups', { name: 'Second admins', grants: own.grants });
    expect(full.status, JSON.stringify(full.body)).toBe(201);
    const second = await admin.post('/users', {
      email: 'second-admin@carrier.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: full.body.id,
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const taken = await admin.patch(`/groups/${own.id}`, { version: own.version, grants: fewer });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    const mender = await apiClient(suite.server.url, 'second-admin@carrier.test', PASSWORD);
    const given = await mender.patch(`/groups/${own.id}`, {
      version: taken.body.version,
      grants: own.grants,
    });
    expect(given.status, JSON.stringify(given.body)).toBe(200);
  });
});

describe('an email taken', () => {
  it('is 409 email_taken naming the field, one at a time or several at once', async () => {
    const group = (
      await admin.post('/groups', { name: 'Email owners', grants: ['customers:read'] })
    ).body.id;
    const create = () =>
      admin.post('/users', {
        email: 'twice@carrier.test',
        password: PASSWORD,
        accountId: carrierId,
        groupId: group,
      });
    // At once: all pass the check, one inserts, the others meet the constraint.
    const answers = await Promise.all([create(), create(), create(), create()]);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    const again = await create();
    for (const refused of [...answers.filter((answer) => answer.status !== 201), again]) {
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'email_taken',
        fields: { email: 'is taken by another user' },
      });
    }
  });
});

describe('an email pasted with spaces around it', () => {
  it('is taken as sign-in takes it: trimmed, in lower case, and signs in', async () => {
    const group = (
      await admin.post('/groups', { name: 'Pasted emails', grants: ['customers:read'] })
    ).body.id;
    const account = await admin.post('/resellers', { name: 'Pasted', email: ' Ops@Pasted.test ' });
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    expect(account.body.email).toBe('ops@pasted.test');
    const user = await admin.post('/users', {
      email: ' Desk@Pasted.test\t',
      password: PASSWORD,
      accountId: account.body.id,
      groupId: group,
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    expect(user.body.email).toBe('desk@pasted.test');
    expect((await apiClient(suite.server.url, 'desk@pasted.test', PASSWORD)).cookie).toBeTruthy();
    // Spaces inside are still no address.
    const inside = await admin.post('/resellers', { name: 'Inside', email: 'ops @pasted.test' });
    expect([inside.status, inside.body.error.fields]).toEqual([
      400,
      { email: 'must be an email address' },
    ]);
  });
});

describe('the lists an operator filters first', () => {
  it('users by status, groups by the account that owns them', async () => {
    const owner = await admin.post('/resellers', { name: 'Filtered', email: 'ops@filtered.test' });
    const group = await admin.post('/groups', {
      name: 'Filtered desk',
      grants: ['customers:read'],
      accountId: owner.body.id,
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const made = await admin.post('/users', {
      email: 'gone@filtered.test',
      password: PASSWORD,
      accountId: owner.body.id,
      groupId: group.body.id,
    });
    const disabled = await admin.patch(`/users/${made.body.id}`, {
      version: made.body.version,
      status: 'disabled',
    });
    expect(disabled.status).toBe(200);
    const users = (await admin.get('/users?status=disabled&limit=500')).body.items as {
      email: string;
      status: string;
    }[];
    expect(users.map((user) => user.email)).toContain('gone@filtered.test');
    expect(users.every((user) => user.status === 'disabled')).toBe(true);
    const active = (await admin.get('/users?status=active&limit=500')).body.items as {
      email: string;
    }[];
    expect(active.map((user) => user.email)).not.toContain('gone@filtered.test');
    const groups = (await admin.get(`/groups?accountId=${owner.body.id}`)).body;
    expect(groups.items.map((item: { name: string }) => item.name)).toEqual(['Filtered desk']);
    expect(groups.total).toBe(1);
    const bad = await admin.get('/users?status=gone');
    expect([bad.status, bad.body.error.fields]).toEqual([
      400,
      { status: 'must be "active" or "disabled"' },
    ]);
  });
});

describe('a login email corrected', () => {
  it('is the manage rule’s: the new email signs in, a taken one is 409, one’s own is refused', async () => {
    const group = (await admin.post('/groups', { name: 'Email fixes', grants: ['customers:read'] }))
      .body.id;
    const made = await admin.post('/users', {
      email: 'opps@typo.test',
      password: PASSWORD,
      accountId: carrierId,
      groupId: group,
    });
    expect(made.status).toBe(201);
    const fixed = await admin.patch(`/users/${made.body.id}`, {
      version: made.body.version,
      email: ' Ops@Typo.test ',
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect(fixed.body.email).toBe('ops@typo.test');
    expect((await apiClient(suite.server.url, 'ops@typo.test', PASSWORD)).cookie).toBeTruthy();
    const old = await fetch(`${suite.server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'opps@typo.test', password: PASSWORD, name: 'old login' }),
    });
    expect(old.status).toBe(401);
    // Another user's email: 409 naming the field, nothing changed.
    const taken = await admin.patch(`/users/${made.body.id}`, {
      version: fixed.body.version,
      email: ADMIN.email,
    });
    expect([taken.status, taken.body.error.code, taken.body.error.fields]).toEqual([
      409,
      'email_taken',
      { email: 'is taken by another user' },
    ]);
    // One's own login is not changed through this path (the manage rule, never oneself).
    const me = (await admin.get('/me')).body.user;
    const own = await admin.get(`/users/${me.id}`);
    const self = await admin.patch(`/users/${me.id}`, {
      version: own.body.version,
      email: 'other@carrier.test',
    });
    expect(self.status).toBe(403);
    // Audited with both emails, for readers of users.
    const audit = (await admin.get(`/audit?resource=users&entityId=${made.body.id}`)).body.items;
    expect(audit[0]).toMatchObject({
      op: 'updated',
      before: { email: 'opps@typo.test' },
      after: { email: 'ops@typo.test' },
    });
  });
});
