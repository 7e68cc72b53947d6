import { beforeAll, describe, expect, it } from 'vitest';
import type { TActor } from '@/lib/server/authz/actor';
import { accountTrail } from '@/lib/server/services/accounts/account-trail';
import { DomainError } from '@/lib/server/errors/domain-error';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient } from '../fixtures/api-client';
import { actorByEmail } from '../fixtures/cookie-listener';

/**
 * The breadcrumb of a record page (`accountTrail`): the accounts from just below the
 * viewer's own down to the record's, only those the viewer may see; anything outside
 * its subtree is 404, like every read.
 *
 * Tree: carrier ─┬─ Acme ─── Acme East ─── Harbour Taxis (customer)
 *                └─ Blue ─── Green Grocers (customer)
 */
const ADMIN = { email: 'admin@trail.test', password: 'trail-admin-pass' };
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
const ids = { acme: '', east: '', taxis: '', blue: '', grocers: '' };
const actors = {} as Record<'admin' | 'acme' | 'east' | 'blue', TActor>;

const actorOf = (email: string) => actorByEmail(suite.orm.em.fork(), email);

const trail = (actor: TActor, id: string) => accountTrail(suite.orm.em.fork(), actor, id);

beforeAll(async () => {
  const admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body.id;
  const post = async (path: string, body: object) => (await admin.post(path, body)).body.id;
  ids.acme = await post('/resellers', { name: 'Acme', email: 'acme@trail.test' });
  ids.east = await post('/resellers', {
    name: 'Acme East',
    email: 'east@trail.test',
    parentId: ids.acme,
  });
  ids.taxis = await post('/customers', { name: 'Harbour Taxis', parentId: ids.east });
  ids.blue = await post('/resellers', { name: 'Blue', email: 'blue@trail.test' });
  ids.grocers = await post('/customers', { name: 'Green Grocers', parentId: ids.blue });
  for (const [name, account] of [
    ['acme', ids.acme],
    ['east', ids.east],
    ['blue', ids.blue],
  ] as const) {
    const made = await admin.post('/users', {
      email: `ops@${name}.trail.test`,
      password: 'trail-user-pass',
      accountId: account,
      groupId: group,
    });
    expect(made.status).toBe(201);
  }
  actors.admin = await actorOf(ADMIN.email);
  actors.acme = await actorOf('ops@acme.trail.test');
  actors.east = await actorOf('ops@east.trail.test');
  actors.blue = await actorOf('ops@blue.trail.test');
});

const names = (items: { name: string }[]) => items.map((item) => item.name);

describe('accountTrail (record breadcrumbs)', () => {
  it('gives the carrier the whole path below it, the record included', async () => {
    expect(names(await trail(actors.admin, ids.taxis))).toEqual([
      'Acme',
      'Acme East',
      'Harbour Taxis',
    ]);
    expect(await trail(actors.admin, ids.east)).toEqual([
      { id: ids.acme, kind: 'reseller', name: 'Acme' },
      { id: ids.east, kind: 'reseller', name: 'Acme East' },
    ]);
  });

  it('starts below the viewer: a reseller never sees the carrier or itself in it', async () => {
    expect(names(await trail(actors.acme, ids.taxis))).toEqual(['Acme East', 'Harbour Taxis']);
    expect(names(await trail(actors.east, ids.taxis))).toEqual(['Harbour Taxis']);
    expect(await trail(actors.east, ids.east)).toEqual([]);
  });

  it('is 404 for an account outside the subtree, above it, or a malformed id', async () => {
    const refusals: [TActor, string][] = [
      [actors.blue, ids.taxis], // another reseller's customer
      [actors.blue, ids.acme], // a sibling reseller
      [actors.east, ids.acme], // the account above
      [actors.acme, ids.grocers],
      [actors.acme, 'not-an-id'],
      [actors.acme, '00000000-0000-4000-8000-000000000000'],
    ];
    for (const [viewer, id] of refusals) {
      await expect(trail(viewer, id)).rejects.toSatisfy(
        (error) => error instanceof DomainError && error.kind === 'not_found',
      );
    }
  });
});
