import { beforeAll, describe, expect, it } from 'vitest';
import type { TGrant } from '@/lib/shared/permissions';
import { requestToken, usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, bearerCall, ok, type TApiClient } from '../fixtures/api-client';

/**
 * DESIGN §1: "One grant per endpoint and action, nothing implied." A carrier's person
 * whose group holds exactly the endpoint's grant reaches a card or a group of its own
 * tree through it — not also `cards:read` or `groups:read`, which used to be asked
 * silently (404 "No such card." with the endpoint's own grant held). And holding only
 * another grant still opens nothing. (The price trace names cards, so its levels stay
 * those the caller may read as cards: cards-api.test.ts.)
 */
const ADMIN = { email: 'admin@one-grant.test', password: 'one-grant-admin-pass' };
const PASSWORD = 'one-grant-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

let admin: TApiClient;
const ids = {} as Record<'C' | 'R' | 'K' | 'R2' | 'P', string>;

const deck = (rate: string) => ({
  rates: [{ prefix: '44', destination: 'UK', rate, initialIncrement: 1, increment: 1 }],
});

/** A bearer token of a new carrier user whose group holds exactly `grants`. */
let holders = 0;
async function holderOf(...grants: TGrant[]): Promise<string> {
  const n = ++holders;
  const group = await ok(admin.post('/groups', { name: `${grants.join(' ')} ${n}`, grants }));
  const email = `holder-${n}@one-grant.test`;
  await ok(
    admin.post('/users', { email, password: PASSWORD, accountId: ids.C, groupId: group.id }),
  );
  return (await requestToken(suite.server.url, email, PASSWORD)).body.token as string;
}
const as = (token: string, method: string, path: string, body?: unknown) =>
  bearerCall(suite.server.url, token, method, path, body);

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  ids.R = (await ok(admin.post('/resellers', { name: 'R', email: 'r@one-grant.test' }))).id;
  ids.R2 = (await ok(admin.post('/resellers', { name: 'R2', email: 'r2@one-grant.test' }))).id;
  ids.K = (await ok(admin.post('/customers', { name: 'K', parentId: ids.R }))).id;
  ids.P = (await ok(admin.post('/cards', { name: 'P', currency: 'EUR', kind: 'customer' }))).id;
  await ok(admin.put(`/cards/${ids.P}/rates`, deck('0.0100')), 200);
});

describe('one grant per endpoint: a card of one’s tree', () => {
  it('reads its rates, exports them and traces a price with rates:read alone', async () => {
    const token = await holderOf('rates:read');
    const rates = await as(token, 'GET', `/cards/${ids.P}/rates`);
    expect(rates.status).toBe(200);
    expect(rates.body.items.map((row: { prefix: string }) => row.prefix)).toEqual(['44']);
    // The card itself is cards:read's: not implied by its rates.
    expect((await as(token, 'GET', `/cards/${ids.P}`)).status).toBe(403);
    expect((await as(token, 'GET', '/cards')).status).toBe(403);
  });

  it('replaces its rates with rates:update alone', async () => {
    const token = await holderOf('rates:update');
    const put = await as(token, 'PUT', `/cards/${ids.P}/rates`, deck('0.0110'));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });

  it('assigns it with assignments:create alone', async () => {
    const token = await holderOf('assignments:create');
    const made = await as(token, 'POST', '/assignments', { cardId: ids.P, accountId: ids.R2 });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  });

  it('renames it with cards:update alone, and deletes another with cards:delete alone', async () => {
    const card = await ok(
      admin.post('/cards', { name: 'Spare', currency: 'EUR', kind: 'customer' }),
    );
    const updater = await holderOf('cards:update');
    const renamed = await as(updater, 'PATCH', `/cards/${card.id}`, {
      version: card.version,
      name: 'Spare renamed',
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.name).toBe('Spare renamed');
    const deleter = await holderOf('cards:delete');
    expect((await as(deleter, 'DELETE', `/cards/${card.id}`)).status).toBe(204);
    expect((await admin.get(`/cards/${card.id}`)).status).toBe(404);
  });

  it('still opens nothing to a holder of another grant only', async () => {
    const token = await holderOf('customers:read');
    expect((await as(token, 'GET', `/cards/${ids.P}/rates`)).status).toBe(403);
    expect((await as(token, 'PUT', `/cards/${ids.P}/rates`, deck('0.5'))).status).toBe(403);
    expect(
      (await as(token, 'POST', '/assignments', { cardId: ids.P, accountId: ids.K })).status,
    ).toBe(403);
  });
});

describe('one grant per endpoint: a group of one’s account', () => {
  it('edits it with groups:update alone and deletes one with groups:delete alone', async () => {
    // Within the editor's own grants (no escalation): a group holding groups:update.
    const target = await ok(admin.post('/groups', { name: 'Editors', grants: ['groups:update'] }));
    const editor = await holderOf('groups:update');
    const edited = await as(editor, 'PATCH', `/groups/${target.id}`, {
      version: target.version,
      name: 'Editors renamed',
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.name).toBe('Editors renamed');
    // Reading it is groups:read's: without it, the group is no relation of the reader.
    expect((await as(editor, 'GET', `/groups/${target.id}`)).status).toBe(404);

    const spare = await ok(admin.post('/groups', { name: 'Spare', grants: ['groups:delete'] }));
    const deleter = await holderOf('groups:delete');
    expect((await as(deleter, 'DELETE', `/groups/${spare.id}`)).status).toBe(204);
    expect((await admin.get(`/groups/${spare.id}`)).status).toBe(404);
  });
});
