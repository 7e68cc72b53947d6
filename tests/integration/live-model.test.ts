import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALL_GRANTS,
  DEFAULT_CUSTOMER_GRANTS,
  DEFAULT_RESELLER_GRANTS,
} from '@/lib/shared/permissions';
import type { TChangeEnvelope, TLiveResource } from '@/lib/shared/live/change';
import { usePanelSuite, requestToken } from '../fixtures/panel-suite';
import { bearerCall } from '../fixtures/api-client';
import { BALANCE_WINDOW_MS } from '@/server/balance-hold';
import { ASSIGNEE_VIEW_KEYS } from '../fixtures/cards';
import {
  judge,
  misjudgement,
  type TAccount,
  type TAssignment,
  type TCaller,
  type TCard,
  type TGroup,
  type TUser as TOracleUser,
  type TWorld,
  type TWrite,
} from '../fixtures/permission-oracle';
import {
  byId,
  connectLiveClient,
  freshLists,
  until,
  type TDelivery,
  type TLiveClient,
} from '../fixtures/live-client';

/**
 * The live-sync invariant as a model test (DESIGN §2 "Same rules everywhere"): random
 * operations through the API — trees, users, groups and grants, suspensions, deletes,
 * view-as, clients dropping and coming back, rate cards, rate edits, derives,
 * assignments and customer transfers — with ≥ 20 live clients built from the browser's
 * own modules. Three oracles, none of them the server's audience function or authz:
 * - no leak: every delivery is checked against this file's own model of who may see
 *   what (scope path + grants + active + view-as; a card's owner side or its holders),
 *   at the moment of the change, and a card delivered to a holder must be the assignee
 *   projection (name, currency, rates — never parent, markup, margin or other holders);
 * - no miss: at a quiet point every ~100 operations, each connected client's state
 *   equals a fresh REST fetch for its user;
 * - every write answered as the rules say: each write is judged before it is sent by a
 *   permission oracle written apart from the server's authz (tests/fixtures/
 *   permission-oracle.ts: grants, the subtree rule, no escalation, read-only view-as,
 *   ended sessions, and the data rules a write can hit); each one it permits must be
 *   accepted, each one it forbids refused with its status and code.
 * MODEL_OPS / MODEL_SEED tune a run (the seed of a failure is printed); MODEL_TRACE=1
 * prints each operation and the time per kind.
 */
// 3,000 operations in the test command keep the suite within its time; MODEL_OPS=10000
// (or more) is the deep run, taken before a release and after any change to the audience.
const OPS = Number(process.env.MODEL_OPS ?? 3_000);
const QUIET_EVERY = 100;
/** Past the window, how late a held balance event may go out on a loaded machine. */
const HELD_SLACK_MS = 2_000;
/**
 * When a balance last moved (an accepted payment, or a transfer carrying a balance: closed
 * on the old books, opened on the new one's in the same second): its balance event may be
 * held by the fan-out for up to BALANCE_WINDOW_MS (server/balance-hold.ts, at most one
 * balance event per account a second), so a quiet point right after it may compare before
 * it went out.
 */
let lastBalanceMoveAt = 0;
/**
 * When a token was last issued here: a sign-in, which those who read its person follow
 * at most once a second (lib/client/live-cache.ts), so a quiet point right after it may
 * compare before their users list was read again.
 */
let lastSignInAt = 0;
/** How long after a sign-in its readers' lists may take (their throttle's second). */
const SIGN_IN_FOLLOW_MS = 1_000;
const MAX_ACCOUNTS = 300;
const ADMIN = { email: 'admin@model.test', password: 'model-admin-pass' };
const PASSWORD = 'model-user-pass';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

// ---------------------------------------------------------------- the model
interface TUser extends TOracleUser {
  client?: TClient;
}
interface TClient extends TCaller {
  name: string;
  email: string;
  user: TUser;
  token: string;
  live: TLiveClient;
  /** The test cut this client's connection (a reconnect op brings it back). */
  away: boolean;
}
interface TView {
  path: string;
  grants: Set<string>;
  /** Who the socket acts as, and its group: signals of their own edits name them. */
  userId: string;
  groupId: string;
}
const ASSIGNEE_KEYS = new Set<string>(ASSIGNEE_VIEW_KEYS);

const accounts = new Map<string, TAccount>();
/** A customer's transfers that carried a balance: the moments (operations) they happened. */
const balanceMoves = new Map<string, Set<number>>();
const groups = new Map<string, TGroup>();
const users = new Map<string, TUser>();
const clients: TClient[] = [];
const cards = new Map<string, TCard>();
const assignments = new Map<string, TAssignment>();
/** Support user id → the user it views as. */
const viewAs = new Map<string, string>();
const world: TWorld = { accounts, groups, users, cards, assignments, viewAs };
/** Writes judged by the permission oracle, per kind: [permitted, forbidden]. */
const verdicts: Record<string, [number, number]> = {};
/** How the forbidden writes were refused (`status code` → count): the reasons exercised. */
const refusedAs: Record<string, number> = {};
/** Writes the server answered otherwise than the oracle said. */
const misjudged: string[] = [];
/** The scope of everything ever created (deleted entities keep theirs, for removals). */
const scopes = new Map<string, { resource: TLiveResource; scope: (moment: number) => string }>();
/** `heads[i]`: the log head after operation i; `history[i]`: views and group grants then. */
const heads: number[] = [];
const history: {
  views: Map<string, TView | null>;
  grants: Map<string, string[]>;
  /** Card id → the accounts holding it by assignment then. */
  holders: Map<string, Set<string>>;
}[] = [];
const counts = { ops: 0, succeeded: 0, deliveries: 0, checked: 0, quietPoints: 0, compared: 0 };
const spent = { ops: 0, quiet: 0 };
const perKind: Record<string, number> = {};
/** Operations tried and accepted, per kind: the run shows what it exercised. */
const tally: Record<string, [number, number]> = {};
const pending: { client: TClient; delivery: TDelivery; appliedAt: number }[] = [];
const leaks: string[] = [];

const parentPath = (account: TAccount) =>
  account.path.slice(0, account.path.length - account.id.length - 1);

function activeChain(user: TUser): boolean {
  if (user.gone || user.status !== 'active') return false;
  const account = accounts.get(user.accountId)!;
  return account.path
    .split('/')
    .filter(Boolean)
    .every((id) => accounts.get(id)?.status === 'active');
}

function ownView(user: TUser): TView | null {
  if (!activeChain(user)) return null;
  const grants = groups.get(user.groupId)!.grants;
  // No grant is no access (DESIGN §1): such a user is not let in at all, and a view-as
  // of it waits, as for a disabled one, with the support user in its own view.
  if (grants.length === 0) return null;
  return {
    path: accounts.get(user.accountId)!.path,
    grants: new Set(grants),
    userId: user.id,
    groupId: user.groupId,
  };
}

/** What a client's user may see now: its own view, or the view of whom it views as. */
function viewOf(client: TClient): TView | null {
  const own = ownView(client.user);
  const targetId = viewAs.get(client.user.id);
  if (!own || !targetId || !own.grants.has('impersonation:start')) return own;
  const target = users.get(targetId);
  const targetView = target ? ownView(target) : null;
  return targetView && targetView.path.startsWith(own.path) && targetView.path !== own.path
    ? targetView
    : own;
}

/**
 * An entity's scope path at a moment. Customers move by transfer, and what a customer
 * owned (a user, a group, a card deleted before the move) was where the customer was
 * then, not where it is now.
 */
function scopeAt(id: string, moment: number): string | undefined {
  const account = accounts.get(id);
  const earlier = account?.moves?.find(([until]) => moment < until);
  return earlier ? earlier[1] : scopes.get(id)?.scope(moment);
}

/** An account's own path at a moment: the path its users, groups and cards are under. */
function pathAt(account: TAccount, moment: number): string {
  return `${scopeAt(account.id, moment) ?? parentPath(account)}${account.id}/`;
}

/**
 * A transfer carrying a balance closes it on the old parent's books before the move, in
 * the same operation (one moment here): that closing — the customer still under its old
 * parent, as a ledger movement — is the old side's to hear, and nothing else of the move.
 */
function closedOnOldBooks(view: TView | null, envelope: TDelivery['envelope'], moment: number) {
  const left = accounts.get(envelope.id)?.moves?.find(([until]) => until === moment)?.[1];
  const reason = envelope.summary?.reason;
  return (
    view !== null &&
    left !== undefined &&
    balanceMoves.get(envelope.id)?.has(moment) === true &&
    envelope.type === 'customers.updated' &&
    (reason === 'ledger' || reason === 'balance') &&
    view.grants.has('customers:read') &&
    left.startsWith(view.path) &&
    `${left}`.endsWith(`${(envelope.data as { parentId?: string }).parentId}/`)
  );
}

function visible(view: TView | null, resource: TLiveResource, id: string, moment: number): boolean {
  const known = scopes.get(id);
  if (!view || !known || known.resource !== resource) return false;
  const scope = scopeAt(id, moment)!;
  if (resource === 'cards') return cardRelationAt(view, id, moment) !== null;
  if (resource !== 'groups')
    return view.grants.has(`${resource}:read`) && scope.startsWith(view.path);
  if (scope.startsWith(view.path)) return view.grants.has('groups:read');
  const assigns = view.grants.has('users:create') || view.grants.has('users:update');
  return (
    assigns &&
    view.path.startsWith(scope) &&
    (history[moment]!.grants.get(id) ?? []).every((grant) => view.grants.has(grant))
  );
}

/** DESIGN §1: the owner's side sees a card whole, a holder its assignee view. */
function cardRelationAt(view: TView, id: string, moment: number): 'owner' | 'assignee' | null {
  const card = cards.get(id);
  if (!card || !view.grants.has('cards:read')) return null;
  if (pathAt(card.owner, moment).startsWith(view.path)) return 'owner';
  const accountId = view.path.split('/').filter(Boolean).at(-1)!;
  return history[moment]!.holders.get(id)?.has(accountId) ? 'assignee' : null;
}

/** Whether a card envelope is what a holder may receive. */
function assigneeProjected(envelope: TDelivery['envelope']): boolean {
  if (envelope.type === 'cards.margin_alert') return false;
  if (!Object.keys(envelope.data).every((key) => ASSIGNEE_KEYS.has(key))) return false;
  // What changed in what a holder reads (`counts`: rows added, changed, removed) is its.
  return Object.keys(envelope.summary ?? {}).every(
    (key) => key === 'event' || key === 'rows' || key === 'counts',
  );
}

/** Identical views and unchanged group grants are shared between moments (10k of them). */
const viewCache = new Map<string, TView>();
let grantsMoment = new Map<string, string[]>();
let groupsChanged = true;
let holdersMoment = new Map<string, Set<string>>();
let holdersChanged = true;

async function recordHead(): Promise<void> {
  const rows = await suite.orm.em
    .fork()
    .execute<{ head: string | null }[]>('select max(carrier_seq) as head from change_log');
  heads.push(Number(rows[0]?.head ?? 0));
  const views = new Map(
    clients.map((client) => {
      const view = viewOf(client);
      if (!view) return [client.name, null];
      const key = `${view.userId}|${view.groupId}|${view.path}|${[...view.grants].sort().join(',')}`;
      if (!viewCache.has(key)) viewCache.set(key, view);
      return [client.name, viewCache.get(key)!];
    }),
  );
  if (groupsChanged) {
    grantsMoment = new Map([...groups.values()].map((group) => [group.id, group.grants]));
    groupsChanged = false;
  }
  if (holdersChanged) {
    holdersMoment = new Map();
    for (const assignment of assignments.values()) {
      if (assignment.gone) continue;
      const held = holdersMoment.get(assignment.card.id) ?? new Set<string>();
      held.add(assignment.account.id);
      holdersMoment.set(assignment.card.id, held);
    }
    holdersChanged = false;
  }
  history.push({ views, grants: grantsMoment, holders: holdersMoment });
}

/** The operation whose commit wrote `seq`. */
function opOf(seq: number): number {
  let low = 0;
  let high = heads.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (heads[mid]! >= seq) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * A delivery is allowed when, at some moment between its change and its arrival, the
 * model says this client's user could fetch that entity — for a removal, could fetch it
 * just before the change (it only goes to those who saw it).
 */
function checkDelivery({ client, delivery, appliedAt }: (typeof pending)[number]): void {
  const { envelope } = delivery;
  const [resource, kind] = envelope.type.split('.') as [TLiveResource, string];
  const gone = kind === 'removed' || kind === 'deleted';
  const at = opOf(envelope.seq);
  const from = Math.max(0, gone ? at - 1 : at);
  // Until it arrived: the fan-out re-checks access as it is when it gets to the change.
  const to = Math.max(appliedAt + 1, at);
  counts.checked++;
  if (gone && JSON.stringify(envelope.data) !== JSON.stringify({ id: envelope.id })) {
    leaks.push(`${client.name}: ${envelope.type} carried data ${JSON.stringify(envelope.data)}`);
  }
  if (envelope.summary && 'audience' in envelope.summary) {
    leaks.push(`${client.name}: ${envelope.type} #${envelope.seq} carried the audience hints`);
  }
  for (let i = from; i <= Math.min(to, history.length - 1); i++) {
    const moment = history[i]!;
    const view = moment.views.get(client.name) ?? null;
    if ((resource as string) === 'notifications') {
      // A notice reaches the people of the account it tells of who read its subject: a
      // card assigned to their account, read with cards:read; a credit notice, read with
      // ledger:read, also the account's parent's. The model marks none read.
      const notice = envelope.data as { kind?: string; data?: { accountId?: string } };
      const account = notice.data?.accountId ? accounts.get(notice.data.accountId) : undefined;
      if (
        kind === 'created' &&
        notice.kind === 'card.assigned' &&
        view &&
        account &&
        account.path === view.path &&
        view.grants.has('cards:read')
      ) {
        return;
      }
      // A view-as started on a person: that person alone (and whoever views as them).
      const viewed = notice.data as { userId?: string } | undefined;
      if (
        kind === 'created' &&
        notice.kind === 'user.viewed_as' &&
        view &&
        viewed?.userId === view.userId
      ) {
        return;
      }
      // A credit notice: the account's own people who read ledgers, and its parent's who
      // read ledgers and such accounts (it names the account).
      if (
        kind === 'created' &&
        (notice.kind === 'account.credit_blocked' || notice.kind === 'account.credit_warning') &&
        view &&
        account &&
        view.grants.has('ledger:read') &&
        (account.path === view.path ||
          ((scopeAt(account.id, i) ?? parentPath(account)) === view.path &&
            view.grants.has(account.kind === 'customer' ? 'customers:read' : 'resellers:read')))
      ) {
        return;
      }
      continue;
    }
    if (kind === 'refetch') {
      // A bulk signal names an account under which this viewer reads that resource; a
      // view-as or a sign-in signal (people readers) the person's account, itself or below
      // the viewer; an own-account signal the viewer's own account, and a cascade
      // (`above`) a reseller above it, whatever its grants.
      const account = accounts.get(envelope.id);
      const reason = envelope.summary?.reason;
      const bare = JSON.stringify(envelope.data) === JSON.stringify({ id: envelope.id });
      // A change in the viewer's audit nothing else told them of: a bare signal naming
      // their own account and nothing of the change, to an audit reader.
      if (
        (resource as string) === 'audit' &&
        view?.grants.has('audit:read') &&
        account?.path === view.path &&
        bare &&
        !envelope.summary
      ) {
        return;
      }
      // Calls below the viewer, to a reader of calls: a bare signal naming its own account.
      if (
        reason === 'usage' &&
        view?.grants.has('usage:read') &&
        account?.path === view.path &&
        bare
      ) {
        return;
      }
      // An edit of the viewer's own user or group: a bare signal naming that one.
      if (
        reason === 'own_identity' &&
        view &&
        bare &&
        envelope.id === (resource === 'users' ? view.userId : view.groupId)
      ) {
        return;
      }
      const allowed =
        view &&
        account &&
        bare &&
        (reason === 'own_account'
          ? account.path === view.path
          : reason === 'above'
            ? // A reseller above the viewer moved the effective status of all below it.
              account.kind === 'reseller' &&
              view.path.startsWith(account.path) &&
              view.path !== account.path
            : view.grants.has(`${resource}:read`) &&
              // Where the account was then: a customer may have moved since (transfer).
              (reason === 'view_as' || reason === 'sign_in'
                ? account.path
                : (scopeAt(envelope.id, i) ?? parentPath(account))
              ).startsWith(view.path));
      if (allowed) return;
      continue;
    }
    if (resource === 'cards' && view) {
      const relation = cardRelationAt(view, envelope.id, i);
      if (relation === 'owner') return;
      if (relation === 'assignee') {
        if (assigneeProjected(envelope)) return;
        leaks.push(
          `${client.name} holds ${envelope.id} but got more than the assignee view: ${envelope.type} ${JSON.stringify(envelope.data)} ${JSON.stringify(envelope.summary ?? {})}`,
        );
        return;
      }
      continue;
    }
    if (visible(view, resource, envelope.id, i)) return;
    if (closedOnOldBooks(view, envelope, i)) return;
  }
  const then = history[Math.min(to, history.length - 1)]!.views.get(client.name);
  leaks.push(
    `${client.name} got ${envelope.type} #${envelope.seq} (${envelope.id}, ${delivery.source}) without access (ops ${from}..${to}); ` +
      `its view then: ${then ? `${then.path} [${[...then.grants].join(' ')}]` : 'none'}; entity scope: ${scopeAt(envelope.id, at) ?? '?'}`,
  );
}

// ---------------------------------------------------------------- the API
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TBody = any;
function call(token: string, method: string, path: string, body?: unknown) {
  return bearerCall<TBody>(suite.server.url, token, method, path, body);
}

/**
 * Every page of `GET /events` after `since`, followed by its `seq` until a page no longer
 * moves: a page may end short of the head with fewer items than asked (or none), so an
 * empty first page alone does not show that nothing is owed. A refusal ends it.
 */
async function eventsAfter(token: string, since: number) {
  const items: TChangeEnvelope[] = [];
  for (let at = since; ;) {
    const page = await call(token, 'GET', `/events?since=${at}`);
    if (page.status !== 200) return page;
    items.push(...page.body.items);
    if (page.body.seq <= at) return { ...page, body: { ...page.body, items } };
    at = page.body.seq;
  }
}

function addAccount(
  dto: { id: string; parentId: string; version: number },
  kind: TAccount['kind'],
) {
  const parent = accounts.get(dto.parentId)!;
  const account: TAccount = {
    id: dto.id,
    kind,
    path: `${parent.path}${dto.id}/`,
    status: 'active',
    version: dto.version,
    gone: false,
  };
  accounts.set(account.id, account);
  scopes.set(account.id, {
    resource: `${kind}s` as TLiveResource,
    scope: () => parentPath(account),
  });
  return account;
}

function addGroup(dto: { id: string; accountId: string; grants: string[]; version: number }) {
  const group: TGroup = {
    id: dto.id,
    owner: accounts.get(dto.accountId)!,
    grants: dto.grants,
    version: dto.version,
    gone: false,
  };
  groups.set(group.id, group);
  groupsChanged = true;
  scopes.set(group.id, { resource: 'groups', scope: (moment) => pathAt(group.owner, moment) });
  return group;
}

function addUser(dto: { id: string; accountId: string; groupId: string; version: number }) {
  const user: TUser = {
    id: dto.id,
    accountId: dto.accountId,
    groupId: dto.groupId,
    status: 'active',
    version: dto.version,
    gone: false,
    sessions: 0,
  };
  users.set(user.id, user);
  scopes.set(user.id, {
    resource: 'users',
    scope: (moment) => pathAt(accounts.get(user.accountId)!, moment),
  });
  return user;
}

function addCard(dto: {
  id: string;
  ownerId: string;
  kind: TCard['kind'];
  parentId: string | null;
  version: number;
}) {
  const card: TCard = {
    id: dto.id,
    owner: accounts.get(dto.ownerId)!,
    kind: dto.kind,
    parentId: dto.parentId,
    version: dto.version,
    gone: false,
  };
  cards.set(card.id, card);
  scopes.set(card.id, { resource: 'cards', scope: (moment) => pathAt(card.owner, moment) });
  return card;
}

function addAssignment(dto: { id: string; cardId: string; accountId: string }) {
  const assignment: TAssignment = {
    id: dto.id,
    card: cards.get(dto.cardId)!,
    account: accounts.get(dto.accountId)!,
    gone: false,
  };
  // One card per customer: a new one replaces the old.
  if (assignment.account.kind === 'customer') {
    for (const other of assignments.values()) {
      if (other.account.id === assignment.account.id) other.gone = true;
    }
  }
  assignments.set(assignment.id, assignment);
  holdersChanged = true;
  scopes.set(assignment.id, {
    resource: 'assignments',
    scope: (moment) => pathAt(assignment.card.owner, moment),
  });
  return assignment;
}

function connect(client: TClient): TLiveClient {
  return connectLiveClient(suite.server.url, client.token, client.name, {
    onApplied: (live, delivery) => {
      counts.deliveries++;
      pending.push({ client, delivery, appliedAt: heads.length - 1 });
    },
  });
}

// ---------------------------------------------------------------- setup
let adminToken: string;
let carrier: TAccount;
let sentinelId: string;

async function setup(): Promise<void> {
  adminToken = (await requestToken(suite.server.url, ADMIN.email, ADMIN.password)).body.token;
  const me = (await call(adminToken, 'GET', '/me')).body;
  carrier = {
    id: me.account.id,
    kind: 'carrier',
    path: `${me.account.id}/`,
    status: 'active',
    version: 1,
    gone: false,
  };
  accounts.set(carrier.id, carrier);
  const adminGroup = addGroup({
    id: me.group.id,
    accountId: carrier.id,
    grants: me.grants,
    version: 1,
  });
  const adminUser = addUser({
    id: me.user.id,
    accountId: carrier.id,
    groupId: adminGroup.id,
    version: 1,
  });

  const group = async (
    name: string,
    grants: readonly string[],
    accountId = carrier.id,
    token = adminToken,
  ) => {
    const created = await call(token, 'POST', '/groups', { name, grants, accountId });
    expect(created.status).toBe(201);
    return addGroup(created.body);
  };
  const reseller = async (name: string, parent: TAccount) => {
    const created = await call(adminToken, 'POST', '/resellers', {
      name,
      email: `${name.toLowerCase()}@model.test`,
      parentId: parent.id,
    });
    expect(created.status).toBe(201);
    return addAccount(created.body, 'reseller');
  };
  const dr = await group('Default reseller', DEFAULT_RESELLER_GRANTS);
  const narrow = await group('Narrow', [
    'customers:read',
    'customers:create',
    'users:read',
    'users:create',
  ]);
  const ops = await group(
    'Carrier ops',
    ALL_GRANTS.filter((g) => g !== 'impersonation:start'),
  );
  const support = await group('Support', [
    'resellers:read',
    'customers:read',
    'impersonation:start',
  ]);
  const auditor = await group('Auditor', [
    'resellers:read',
    'customers:read',
    'users:read',
    'groups:read',
  ]);
  const r1 = await reseller('R1', carrier);
  const r2 = await reseller('R2', carrier);
  const r1a = await reseller('R1a', r1);
  const r1b = await reseller('R1b', r1);
  const r2a = await reseller('R2a', r2);
  const r1a1 = await reseller('R1a1', r1a);
  const names = new Map(
    [r1, r2, r1a, r1b, r2a, r1a1].map((x, i) => [
      x.id,
      ['r1', 'r2', 'r1a', 'r1b', 'r2a', 'r1a1'][i]!,
    ]),
  );

  const people: [string, TAccount, TGroup][] = [
    ['ops', carrier, ops],
    ['support', carrier, support],
    ['auditor', carrier, auditor],
  ];
  for (const account of [r1, r2, r1a, r1b, r2a, r1a1]) {
    people.push([`admin-${names.get(account.id)}`, account, dr]);
    people.push([`narrow-${names.get(account.id)}`, account, narrow]);
  }
  for (const [name, account, g] of people) {
    const created = await call(adminToken, 'POST', '/users', {
      email: `${name}@model.test`,
      password: PASSWORD,
      accountId: account.id,
      groupId: g.id,
    });
    expect(created.status).toBe(201);
    addUser(created.body);
  }
  // Resellers' own groups, made by their own admins (a third user each, in them).
  for (const account of [r1, r2, r1a, r2a]) {
    const name = names.get(account.id)!;
    const token = (await requestToken(suite.server.url, `admin-${name}@model.test`, PASSWORD)).body
      .token;
    const own = await group(
      `Sales ${name}`,
      ['customers:read', 'resellers:read'],
      account.id,
      token,
    );
    const created = await call(token, 'POST', '/users', {
      email: `sales-${name}@model.test`,
      password: PASSWORD,
      accountId: account.id,
      groupId: own.id,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    addUser(created.body);
  }
  // Customer self-care (issue 19): customers' people are clients too — two siblings under
  // R1 on R1's Default Customer group, one under R2a on the carrier's.
  const customerGroups = new Map<TAccount, TGroup>();
  for (const [owner, token] of [
    [r1, (await requestToken(suite.server.url, 'admin-r1@model.test', PASSWORD)).body.token],
    [carrier, adminToken],
  ] as const) {
    const made = await call(token, 'POST', '/groups', {
      template: 'default-customer',
      accountId: owner.id,
    });
    expect(made.status).toBe(201);
    expect([...made.body.grants].sort()).toEqual([...DEFAULT_CUSTOMER_GRANTS].sort());
    customerGroups.set(owner, addGroup(made.body));
  }
  for (const [name, parent, g] of [
    ['k1', r1, customerGroups.get(r1)!],
    ['k1b', r1, customerGroups.get(r1)!],
    ['k2', r2a, customerGroups.get(carrier)!],
  ] as const) {
    const made = await call(adminToken, 'POST', '/customers', {
      name: name.toUpperCase(),
      parentId: parent.id,
    });
    expect(made.status).toBe(201);
    const account = addAccount(made.body, 'customer');
    const created = await call(adminToken, 'POST', '/users', {
      email: `cust-${name}@model.test`,
      password: PASSWORD,
      accountId: account.id,
      groupId: g.id,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    addUser(created.body);
  }
  sentinelId = (await call(adminToken, 'POST', '/customers', { name: 'Sentinel' })).body.id;
  addAccount({ id: sentinelId, parentId: carrier.id, version: 1 }, 'customer');

  // Every user above is a live client, the carrier admin too.
  const emails = new Map<string, string>([[adminUser.id, ADMIN.email]]);
  const listed = (await call(adminToken, 'GET', '/users?limit=500')).body.items as {
    id: string;
    email: string;
  }[];
  for (const item of listed) emails.set(item.id, item.email);
  for (const user of users.values()) {
    const email = emails.get(user.id)!;
    const password = user.id === adminUser.id ? ADMIN.password : PASSWORD;
    const token = (await requestToken(suite.server.url, email, password)).body.token;
    lastSignInAt = Date.now();
    const client: TClient = {
      name: email.split('@')[0]!,
      email,
      user,
      token,
      tokenSessions: user.sessions,
      live: null!,
      away: false,
    };
    user.client = client;
    clients.push(client);
  }
  await recordHead();
  for (const client of clients) {
    client.live = connect(client);
    await client.live.waitForHello(1);
  }
}

// ---------------------------------------------------------------- operations
type TOpKind = (typeof WEIGHTS)[number][0];
const WEIGHTS = [
  ['createCustomer', 18],
  ['createReseller', 6],
  ['updateAccount', 18],
  ['suspendToggle', 4],
  ['deleteAccount', 8],
  ['createUser', 2],
  ['updateUser', 5],
  ['deleteUser', 2],
  ['createGroup', 3],
  ['regrant', 7],
  ['deleteGroup', 1],
  ['moveClient', 2],
  ['clientStatus', 2],
  ['viewAs', 3],
  ['dropClient', 4],
  ['reconnect', 6],
  ['createCard', 4],
  ['putRates', 5],
  ['deriveCard', 4],
  ['updateCard', 3],
  ['assignCard', 6],
  ['unassignCard', 2],
  ['transferCustomer', 3],
  ['deleteCard', 1],
  ['payment', 5],
] as const;
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function kindOf(roll: number): TOpKind {
  let left = roll % TOTAL_WEIGHT;
  for (const [kind, weight] of WEIGHTS) {
    if (left < weight) return kind;
    left -= weight;
  }
  return 'createCustomer';
}

const pick = <T>(items: T[], n: number): T | undefined =>
  items.length ? items[n % items.length] : undefined;

/** A writer: mostly someone the model says may do it, sometimes anyone (refusals count too). */
function writer(
  grant: string,
  n: number,
): { token: string; view: TView; user: TUser; caller: TClient } {
  const able = clients.filter((c) => {
    const view = ownView(c.user);
    return view && !viewAs.has(c.user.id) && view.grants.has(grant);
  });
  const chosen = n % 5 === 0 ? pick(clients, n >> 3) : pick(able, n >> 3);
  const client = chosen && ownView(chosen.user) ? chosen : clients[0]!;
  return {
    token: client.token,
    view: ownView(client.user) ?? ownView(clients[0]!.user)!,
    user: client.user,
    caller: client,
  };
}

/** The carrier admin with the token it got at setup (its sessions never end). */
const admin = (): TCaller => ({ user: clients[0]!.user, tokenSessions: 0 });

/**
 * Judges a write before it is sent (the oracle reads the model as it is), sends it, and
 * holds the answer to the verdict.
 */
async function judged(
  kind: string,
  caller: TCaller,
  write: TWrite,
  send: () => Promise<{ status: number; body: TBody }>,
): Promise<{ status: number; body: TBody }> {
  const verdict = judge(world, caller, write);
  const res = await send();
  const [permitted, forbidden] = verdicts[kind] ?? [0, 0];
  verdicts[kind] = 'permitted' in verdict ? [permitted + 1, forbidden] : [permitted, forbidden + 1];
  if (!('permitted' in verdict)) {
    const answer = `${res.status} ${res.body?.error?.code ?? ''}`;
    refusedAs[answer] = (refusedAs[answer] ?? 0) + 1;
  }
  const wrong = misjudgement(verdict, res);
  if (wrong) {
    // Who asked, as the model sees them: enough to replay the judgement by hand.
    const { user } = caller;
    const account = world.accounts.get(user.accountId);
    const who = `user ${user.id} (${user.status}${user.gone ? ', gone' : ''}, sessions ${user.sessions}/${caller.tokenSessions}) of ${account?.kind} ${account?.path} (${account?.status}${account?.gone ? ', gone' : ''}), group ${user.groupId}`;
    misjudged.push(`op ${counts.ops} ${kind} ${JSON.stringify(write, brief)} by ${who}: ${wrong}`);
  }
  return res;
}

/** Entities named by id in a misjudgement's message, not dumped whole. */
function brief(key: string, value: unknown): unknown {
  if (key && value && typeof value === 'object' && 'id' in value)
    return (value as { id: string }).id;
  return value;
}

/** Whether `version` is behind the row's own (the data rule, read from the database). */
async function isStale(
  table: 'account' | 'app_user' | 'user_group' | 'card',
  id: string,
  version: number,
): Promise<boolean> {
  const rows = await suite.orm.em
    .fork()
    .execute<{ version: number }[]>(`select version from ${table} where id = ?`, [id]);
  return rows[0] !== undefined && rows[0].version !== version;
}

const live = (map: Map<string, { gone: boolean }>) => [...map.values()].filter((e) => !e.gone);
const liveAccounts = (kind?: TAccount['kind']) =>
  (live(accounts) as TAccount[]).filter((a) => !kind || a.kind === kind);

function takeVersion(entity: { version: number }, response: { status: number; body: TBody }) {
  if (response.status === 200) entity.version = response.body.version;
  else if (response.status === 409 && response.body?.error?.current?.version) {
    entity.version = response.body.error.current.version;
  }
}

async function refreshToken(client: TClient): Promise<boolean> {
  const password = client.email === ADMIN.email ? ADMIN.password : PASSWORD;
  const issued = await requestToken(suite.server.url, client.email, password);
  lastSignInAt = Date.now();
  if (issued.status !== 201 && issued.status !== 200) return false;
  client.token = issued.body.token;
  client.tokenSessions = client.user.sessions;
  client.live.setToken(client.token);
  // A view-as is the credential's that started it: the new token acts as its person.
  viewAs.delete(client.user.id);
  return true;
}

async function reconnect(client: TClient): Promise<void> {
  if (!viewOf(client) || client.live.socket.connected) return;
  if (!(await refreshToken(client))) return;
  const hellos = client.live.hellos.length;
  client.live.socket.connect();
  await client.live.waitForHello(hellos + 1);
  client.away = false;
}

async function run(op: [number, number, number, number]): Promise<void> {
  const [roll, a, b, c] = op;
  // Keep the tree at a few hundred accounts: past that, creations become deletions, so
  // a quiet point's fresh fetches stay cheap and the run stays linear in operations.
  const rolled = kindOf(roll);
  const crowded = liveAccounts().length > MAX_ACCOUNTS;
  const kind =
    crowded && rolled.startsWith('create') && rolled !== 'createUser' && rolled !== 'createGroup'
      ? 'deleteAccount'
      : rolled;
  counts.ops++;
  let ok = false;
  let trace = '';
  const began = performance.now();
  switch (kind) {
    case 'createCustomer': {
      const w = writer('customers:create', a);
      const parents = liveAccounts().filter(
        (x) => x.kind !== 'customer' && x.path.startsWith(w.view.path),
      );
      const parent = pick(parents, b);
      const write: TWrite = { op: 'createAccount', kind: 'customer', parent };
      const res = await judged(kind, w.caller, write, () =>
        call(w.token, 'POST', '/customers', {
          name: `Customer ${counts.ops}`,
          ...(parent ? { parentId: parent.id } : {}),
          ...(c % 2 ? { creditLimit: `${c % 1000}.50` } : {}),
        }),
      );
      if ((ok = res.status === 201)) addAccount(res.body, 'customer');
      break;
    }
    case 'createReseller': {
      const w = writer('resellers:create', a);
      const parents = liveAccounts().filter(
        (x) => x.kind !== 'customer' && x.path.startsWith(w.view.path),
      );
      const parent = pick(parents, b);
      const write: TWrite = { op: 'createAccount', kind: 'reseller', parent };
      const res = await judged(kind, w.caller, write, () =>
        call(w.token, 'POST', '/resellers', {
          name: `Reseller ${counts.ops}`,
          email: `r${counts.ops}@model.test`,
          ...(parent ? { parentId: parent.id } : {}),
        }),
      );
      if ((ok = res.status === 201)) addAccount(res.body, 'reseller');
      break;
    }
    case 'updateAccount': {
      const target = pick(
        liveAccounts().filter((x) => x.kind !== 'carrier'),
        a,
      );
      if (!target) break;
      const w = writer(`${target.kind}s:update`, b);
      const stale = await isStale('account', target.id, target.version);
      const res = await judged(kind, w.caller, { op: 'updateAccount', target, stale }, () =>
        call(w.token, 'PATCH', `/${target.kind}s/${target.id}`, {
          version: target.version,
          name: `Renamed ${counts.ops}`,
          // A limit of 0 on an account without payments blocks it for credit (a reseller's
          // blocking reaches its customers): payments below unblock it, live.
          creditLimit: c % 3 ? `${c % 7 ? c % 5000 : 0}` : null,
        }),
      );
      takeVersion(target, res);
      ok = res.status === 200;
      break;
    }
    case 'suspendToggle': {
      // Half the time bring one back, so suspensions come and go instead of piling up.
      const suspended = liveAccounts('reseller').filter((x) => x.status === 'suspended');
      const target = pick(b % 2 && suspended.length ? suspended : liveAccounts('reseller'), a);
      if (!target) break;
      const stale = await isStale('account', target.id, target.version);
      const res = await judged(kind, admin(), { op: 'updateAccount', target, stale }, () =>
        call(adminToken, 'PATCH', `/resellers/${target.id}`, {
          version: target.version,
          status: target.status === 'active' ? 'suspended' : 'active',
        }),
      );
      takeVersion(target, res);
      if ((ok = res.status === 200))
        target.status = target.status === 'active' ? 'suspended' : 'active';
      trace = `${target.path} → ${target.status} (head ${heads.at(-1)})`;
      break;
    }
    case 'deleteAccount': {
      const pool = a % 4 === 0 ? liveAccounts('reseller') : liveAccounts('customer');
      const target = pick(
        pool.filter((x) => x.id !== sentinelId),
        b,
      );
      if (!target) break;
      const w = writer(`${target.kind}s:delete`, c);
      const res = await judged(kind, w.caller, { op: 'deleteAccount', target }, () =>
        call(w.token, 'DELETE', `/${target.kind}s/${target.id}`),
      );
      if ((ok = res.status === 204)) target.gone = true;
      break;
    }
    case 'createUser': {
      // Any account, customers included (issue 19: customers' people sign in too).
      const account = pick(liveAccounts(), a);
      const usable = (live(groups) as TGroup[]).filter((g) =>
        account?.path.startsWith(g.owner.path),
      );
      const group = pick(usable, b);
      if (!account || !group) break;
      const res = await judged(kind, admin(), { op: 'createUser', account, group }, () =>
        call(adminToken, 'POST', '/users', {
          email: `u${counts.ops}@model.test`,
          password: PASSWORD,
          accountId: account.id,
          groupId: group.id,
        }),
      );
      if ((ok = res.status === 201)) addUser(res.body);
      break;
    }
    case 'updateUser': {
      const target = pick(
        (live(users) as TUser[]).filter((u) => !u.client),
        a,
      );
      if (!target) break;
      const w = writer('users:update', b);
      const stale = await isStale('app_user', target.id, target.version);
      const status =
        c % 3 === 0 ? (target.status === 'active' ? 'disabled' : 'active') : target.status;
      const res = await judged(kind, w.caller, { op: 'manageUser', target, stale }, () =>
        call(w.token, 'PATCH', `/users/${target.id}`, {
          version: target.version,
          name: `Person ${counts.ops}`,
          status,
        }),
      );
      takeVersion(target, res);
      if ((ok = res.status === 200)) {
        if (status === 'disabled' && target.status === 'active') {
          target.sessions++;
          // Disabled: its open view ends.
          viewAs.delete(target.id);
        }
        target.status = res.body.status;
      }
      break;
    }
    case 'deleteUser': {
      const target = pick(
        (live(users) as TUser[]).filter((u) => !u.client),
        a,
      );
      if (!target) break;
      const res = await judged(kind, admin(), { op: 'deleteUser', target }, () =>
        call(adminToken, 'DELETE', `/users/${target.id}`),
      );
      if ((ok = res.status === 204)) target.gone = true;
      break;
    }
    case 'createGroup': {
      const w = writer('groups:create', a);
      const grants = ALL_GRANTS.filter(
        (g, i) => w.view.grants.has(g) && ((b >> (i % 30)) & 1) === 1,
      );
      const res = await judged(kind, w.caller, { op: 'createGroup', grants }, () =>
        call(w.token, 'POST', '/groups', { name: `Group ${counts.ops}`, grants }),
      );
      if ((ok = res.status === 201)) addGroup(res.body);
      break;
    }
    case 'regrant': {
      const target = pick(
        (live(groups) as TGroup[]).filter((g) => g.id !== clients[0]!.user.groupId),
        a,
      );
      if (!target) break;
      const w = writer('groups:update', c);
      const pool = ALL_GRANTS.filter((g) => w.view.grants.has(g));
      const grants = pool.filter((_, i) => ((b >> (i % 30)) & 1) === 1 || i % 7 === c % 7);
      trace = `${target.id} → ${JSON.stringify(grants)}`;
      const stale = await isStale('user_group', target.id, target.version);
      const res = await judged(kind, w.caller, { op: 'updateGroup', target, grants, stale }, () =>
        call(w.token, 'PATCH', `/groups/${target.id}`, { version: target.version, grants }),
      );
      takeVersion(target, res);
      if ((ok = res.status === 200)) {
        // Its people who lose the view-as grant: their open views end with it.
        if (target.grants.includes('impersonation:start')) {
          if (!res.body.grants.includes('impersonation:start')) {
            for (const user of live(users) as TUser[]) {
              if (user.groupId === target.id) viewAs.delete(user.id);
            }
          }
        }
        target.grants = res.body.grants;
        groupsChanged = true;
      }
      break;
    }
    case 'deleteGroup': {
      const target = pick(
        (live(groups) as TGroup[]).filter((g) => g.id !== clients[0]!.user.groupId),
        a,
      );
      if (!target) break;
      const res = await judged(kind, admin(), { op: 'deleteGroup', target }, () =>
        call(adminToken, 'DELETE', `/groups/${target.id}`),
      );
      if ((ok = res.status === 204)) target.gone = groupsChanged = true;
      break;
    }
    case 'moveClient': {
      const client = pick(clients.slice(1), a);
      const account = client && accounts.get(client.user.accountId)!;
      const usable = (live(groups) as TGroup[]).filter((g) =>
        account?.path.startsWith(g.owner.path),
      );
      const group = pick(usable, b);
      if (!client || !group || group.id === client.user.groupId) break;
      trace = `${client.name} → ${group.id}`;
      const target = client.user;
      const stale = await isStale('app_user', target.id, target.version);
      const res = await judged(kind, admin(), { op: 'manageUser', target, group, stale }, () =>
        call(adminToken, 'PATCH', `/users/${target.id}`, {
          version: target.version,
          groupId: group.id,
        }),
      );
      takeVersion(target, res);
      if ((ok = res.status === 200)) {
        // A new group re-scopes the user's sessions and tokens; none of them ends (DESIGN
        // §2 "Permission changes take effect live", §3 "Tokens carry exactly the user's
        // permissions"). A group without the view-as grant ends an open view.
        target.groupId = group.id;
        if (!group.grants.includes('impersonation:start')) viewAs.delete(target.id);
      }
      break;
    }
    case 'clientStatus': {
      const client = pick(clients.slice(1), a);
      if (!client) break;
      const target = client.user;
      const stale = await isStale('app_user', target.id, target.version);
      const res = await judged(kind, admin(), { op: 'manageUser', target, stale }, () =>
        call(adminToken, 'PATCH', `/users/${target.id}`, {
          version: target.version,
          status: target.status === 'active' ? 'disabled' : 'active',
        }),
      );
      takeVersion(target, res);
      if ((ok = res.status === 200)) {
        // Disabling ends every session and token of the user, and its open view;
        // enabling starts none.
        if (res.body.status === 'disabled') {
          target.sessions++;
          viewAs.delete(target.id);
        }
        target.status = res.body.status;
      }
      break;
    }
    case 'viewAs': {
      const support = clients.find((c2) => c2.name === 'support')!;
      if (!ownView(support.user)) break;
      if (viewAs.has(support.user.id)) {
        const res = await judged(kind, support, { op: 'stopViewAs', open: true }, () =>
          call(support.token, 'DELETE', '/impersonation'),
        );
        if ((ok = res.status === 204)) viewAs.delete(support.user.id);
      } else {
        const target = pick(
          clients.filter((c2) => accounts.get(c2.user.accountId)!.kind !== 'carrier'),
          a,
        );
        if (!target) break;
        const res = await judged(kind, support, { op: 'startViewAs', target: target.user }, () =>
          call(support.token, 'POST', '/impersonation', {
            userId: target.user.id,
            reason: `model check ${counts.ops}`,
          }),
        );
        if ((ok = res.status === 201)) viewAs.set(support.user.id, target.user.id);
      }
      break;
    }
    case 'createCard': {
      const w = writer('cards:create', a);
      const res = await judged(kind, w.caller, { op: 'createCard' }, () =>
        call(w.token, 'POST', '/cards', {
          name: `Card ${counts.ops}`,
          currency: 'EUR',
          kind: b % 3 ? 'customer' : 'provider',
          decimals: 4 + (c % 3),
        }),
      );
      if ((ok = res.status === 201)) addCard(res.body);
      break;
    }
    case 'putRates': {
      const w = writer('rates:update', a);
      const target = pick(
        (live(cards) as TCard[]).filter((x) => !x.parentId && x.owner.path.startsWith(w.view.path)),
        b,
      );
      if (!target) break;
      const rates = ['1', '12', '44', '441', '49'].slice(0, 1 + (c % 5)).map((prefix, i) => ({
        prefix,
        destination: `Destination ${prefix}`,
        rate: `0.0${((c + i * 7) % 90) + 10}`,
        initialIncrement: [1, 30, 60][(c + i) % 3],
        increment: [1, 6, 60][(c + i) % 3],
      }));
      const res = await judged(kind, w.caller, { op: 'putRates', card: target }, () =>
        call(w.token, 'PUT', `/cards/${target.id}/rates`, { rates }),
      );
      if ((ok = res.status === 200)) target.version = res.body.card.version;
      trace = `${target.id} ${rates.length} rows`;
      break;
    }
    case 'deriveCard': {
      const w = writer('cards:create', a);
      const held = (live(cards) as TCard[]).filter(
        (x) =>
          x.owner.id === w.user.accountId ||
          (live(assignments) as TAssignment[]).some(
            (y) => y.card.id === x.id && y.account.id === w.user.accountId,
          ),
      );
      const parent = pick(held, b);
      if (!parent) break;
      const res = await judged(kind, w.caller, { op: 'deriveCard', parent }, () =>
        call(w.token, 'POST', `/cards/${parent.id}/derive`, {
          name: `Derived ${counts.ops}`,
          markupPercent: String(c % 40),
          ...(c % 3 === 0 ? { markupFixed: '0.001' } : {}),
          rounding: ['half_up', 'half_even', 'up', 'down'][c % 4],
        }),
      );
      if ((ok = res.status === 201)) addCard(res.body);
      trace = `${parent.id} → ${res.body?.id ?? res.status}`;
      break;
    }
    case 'updateCard': {
      const w = writer('cards:update', a);
      const target = pick(
        (live(cards) as TCard[]).filter((x) => x.owner.path.startsWith(w.view.path)),
        b,
      );
      if (!target) break;
      const markup = Boolean(target.parentId && c % 2);
      const stale = await isStale('card', target.id, target.version);
      const res = await judged(
        kind,
        w.caller,
        { op: 'updateCard', card: target, markup, stale },
        () =>
          call(w.token, 'PATCH', `/cards/${target.id}`, {
            version: target.version,
            name: `Card renamed ${counts.ops}`,
            ...(markup ? { markupPercent: String(c % 25) } : {}),
          }),
      );
      takeVersion(target, res);
      ok = res.status === 200;
      break;
    }
    case 'assignCard': {
      const w = writer('assignments:create', a);
      const card = pick(
        (live(cards) as TCard[]).filter(
          (x) => x.kind === 'customer' && x.owner.id === w.user.accountId,
        ),
        b,
      );
      const account = pick(
        liveAccounts().filter((x) => x.kind !== 'carrier' && parentPath(x) === card?.owner.path),
        c,
      );
      if (!card || !account) break;
      const res = await judged(kind, w.caller, { op: 'assignCard', card, account }, () =>
        call(w.token, 'POST', '/assignments', { cardId: card.id, accountId: account.id }),
      );
      if ((ok = res.status === 201)) addAssignment(res.body);
      trace = `${card.id} → ${account.path} (${res.status})`;
      break;
    }
    case 'unassignCard': {
      const w = writer('assignments:delete', a);
      const target = pick(
        (live(assignments) as TAssignment[]).filter((x) =>
          x.card.owner.path.startsWith(w.view.path),
        ),
        b,
      );
      if (!target) break;
      const res = await judged(kind, w.caller, { op: 'unassignCard', assignment: target }, () =>
        call(w.token, 'DELETE', `/assignments/${target.id}`),
      );
      if ((ok = res.status === 204)) target.gone = holdersChanged = true;
      break;
    }
    case 'payment': {
      // Mostly to an account below the writer; sometimes its own or one beyond (refusals).
      const w = writer('payments:create', b);
      const below = liveAccounts().filter(
        (x) => x.kind !== 'carrier' && x.path.startsWith(w.view.path) && x.path !== w.view.path,
      );
      const target = pick(c % 5 ? below : liveAccounts(), a);
      if (!target) break;
      const parent = accounts.get(parentPath(target).split('/').filter(Boolean).at(-1) ?? '');
      const res = await judged(kind, w.caller, { op: 'payment', target }, () =>
        call(w.token, 'POST', `/accounts/${target.id}/payments`, {
          amount: `${(c % 300) + 1}.25`,
          idempotencyKey: `model-payment-${counts.ops}`,
        }),
      );
      if ((ok = res.status === 201)) {
        lastBalanceMoveAt = Date.now();
        target.version = res.body.balance.version;
        target.inLedger = true;
        target.hasBalance = true;
        if (parent) parent.inLedger = true;
      }
      trace = `${target.path} ${res.status}`;
      break;
    }
    case 'transferCustomer': {
      const w = writer('customers:update', a);
      const customer = pick(
        liveAccounts('customer').filter(
          (x) => x.id !== sentinelId && x.path.startsWith(w.view.path) && x.path !== w.view.path,
        ),
        b,
      );
      const card = pick(
        (live(cards) as TCard[]).filter(
          (x) =>
            x.kind === 'customer' &&
            x.owner.path.startsWith(w.view.path) &&
            customer !== undefined &&
            x.owner.path !== parentPath(customer),
        ),
        c,
      );
      if (!customer || !card) break;
      const res = await judged(kind, w.caller, { op: 'transferCustomer', customer, card }, () =>
        call(w.token, 'POST', `/customers/${customer.id}/transfer`, {
          toParentId: card.owner.id,
          cardId: card.id,
          idempotencyKey: `model-transfer-${counts.ops}`,
        }),
      );
      if ((ok = res.status === 200)) {
        // A balance moved with it: closed on the old books, opened on the new parent's —
        // the opening's event held behind the closing's (balance-hold.ts).
        const to = accounts.get(card.owner.id);
        if (customer.hasBalance && to) to.inLedger = true;
        if (customer.hasBalance) lastBalanceMoveAt = Date.now();
        // Its closing on the old books is logged in this operation, under the old path.
        if (customer.hasBalance) {
          balanceMoves.set(
            customer.id,
            (balanceMoves.get(customer.id) ?? new Set()).add(heads.length),
          );
        }
        // Its old path held until this moment; history[heads.length] is the one after it.
        customer.moves = [...(customer.moves ?? []), [heads.length, parentPath(customer)]];
        customer.path = `${card.owner.path}${customer.id}/`;
        customer.version = res.body.version;
        const held = await call(adminToken, 'GET', `/assignments?accountId=${customer.id}`);
        for (const item of held.body.items) addAssignment(item);
      }
      trace = `${customer.id} → ${card.owner.path} (${res.status})`;
      break;
    }
    case 'deleteCard': {
      const w = writer('cards:delete', a);
      const target = pick(
        (live(cards) as TCard[]).filter((x) => x.owner.path.startsWith(w.view.path)),
        b,
      );
      if (!target) break;
      const res = await judged(kind, w.caller, { op: 'deleteCard', card: target }, () =>
        call(w.token, 'DELETE', `/cards/${target.id}`),
      );
      if ((ok = res.status === 204)) target.gone = true;
      break;
    }
    case 'dropClient': {
      const client = pick(clients, a);
      if (!client || !client.live.socket.connected) break;
      client.live.socket.disconnect();
      client.away = true;
      trace = client.name;
      ok = true;
      break;
    }
    case 'reconnect': {
      const client = pick(
        clients.filter((c2) => !c2.live.socket.connected),
        a,
      );
      if (!client) break;
      await reconnect(client);
      ok = client.live.socket.connected;
      trace = client.name;
      break;
    }
  }
  if (ok) counts.succeeded++;
  const [tried, accepted] = tally[kind] ?? [0, 0];
  tally[kind] = [tried + 1, accepted + (ok ? 1 : 0)];
  perKind[kind] = (perKind[kind] ?? 0) + (performance.now() - began);
  if (process.env.MODEL_TRACE)
    console.log(`op ${counts.ops} ${kind} ${ok ? 'ok' : 'refused'} ${trace}`);
  await recordHead();
}

// ---------------------------------------------------------------- quiet points
async function quietPoint(): Promise<void> {
  counts.quietPoints++;
  // A change the carrier admin sees, as a marker: once it arrives, the fan-out has
  // handled (and re-scoped for) everything before it.
  const sentinel = accounts.get(sentinelId)!;
  const marked = await call(adminToken, 'PATCH', `/customers/${sentinelId}`, {
    version: sentinel.version,
    name: `Sentinel ${counts.quietPoints}`,
  });
  takeVersion(sentinel, marked);
  expect(marked.status).toBe(200);
  await recordHead();
  // The sentinel's position: the admin sees it (a reconnect's new token, below, is no
  // change the admin hears of).
  const head = heads.at(-1)!;
  // Everyone who may connect comes back (resuming from where it was, or refetching).
  for (const client of clients) await reconnect(client);
  // A moment after the reconnects: a client back on a new token is its own person again
  // (a view-as is the credential's that started it), and what reaches it from here — a
  // held balance event released now — is judged by that view, not the one before.
  await recordHead();
  const admin = clients[0]!.live;
  await until(() => (admin.feed.seq ?? 0) >= head, 'the sentinel to reach the admin');

  for (const client of clients) {
    const { live: liveClient } = client;
    if (!liveClient.socket.connected || liveClient.feed.state !== 'live' || !viewOf(client))
      continue;
    // Nothing visible after what it applied (else it missed it, and this times out).
    await until(() => liveClient.feed.seq !== null, `${client.name} hello`);
    for (let tries = 0; ; tries++) {
      const rest = await eventsAfter(client.token, liveClient.feed.seq!);
      if (rest.status === 200 && rest.body.items.length === 0) break;
      // Its access changed after what it applied (re-scoped live): the server will not
      // replay across that; the comparison below is the judge.
      if (rest.status === 410) break;
      if (tries > 200)
        throw new Error(`${client.name} is missing events: ${JSON.stringify(rest.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    let shown = byId(await liveClient.lists());
    let fresh = byId(await freshLists(suite.server.url, client.token));
    // A balance event held by the coalescing window goes out when the window ends: only
    // then is the client owed it. A held event that never comes still fails here.
    // So is a list a sign-in made stale, read again within a second of it.
    const owedBy =
      Math.max(lastBalanceMoveAt + BALANCE_WINDOW_MS, lastSignInAt + SIGN_IN_FOLLOW_MS) +
      HELD_SLACK_MS;
    while (!isDeepStrictEqual(plain(shown), plain(fresh)) && Date.now() < owedBy) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      [shown, fresh] = [
        byId(await liveClient.lists()),
        byId(await freshLists(suite.server.url, client.token)),
      ];
    }
    if (!isDeepStrictEqual(plain(shown), plain(fresh))) explain(client, shown, fresh);
    expect(shown, `${client.name} after ${counts.ops} operations`).toEqual(fresh);
    counts.compared++;
  }
  for (const item of pending.splice(0)) checkDelivery(item);
  expect(leaks).toEqual([]);
  expect(misjudged).toEqual([]);
}

/** Plain objects (socket payloads have no prototype), for a strict comparison. */
const plain = (value: unknown) =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

/** On a mismatch: what this client was told about the entities that differ. */
function explain(
  client: TClient,
  shown: Record<string, Record<string, unknown> | null>,
  fresh: Record<string, Record<string, unknown> | null>,
): void {
  const ids = new Set<string>();
  for (const resource of Object.keys(fresh)) {
    for (const id of new Set([
      ...Object.keys(shown[resource] ?? {}),
      ...Object.keys(fresh[resource] ?? {}),
    ])) {
      if (JSON.stringify(shown[resource]?.[id]) !== JSON.stringify(fresh[resource]?.[id]))
        ids.add(id);
    }
  }
  const told = client.live.applied
    .filter(
      (d) => ids.has(d.envelope.id) || d.envelope.type.endsWith('.refetch') || d.envelope.summary,
    )
    .map(
      (d) =>
        `#${d.envelope.seq} ${d.envelope.type} ${d.envelope.id} (${d.source}, op ${opOf(d.envelope.seq)})`,
    );
  for (const id of [...ids].slice(0, 3)) {
    for (const resource of Object.keys(fresh)) {
      if (shown[resource]?.[id] || fresh[resource]?.[id]) {
        console.log(
          `${resource} ${id}\n shown ${JSON.stringify(shown[resource]?.[id])}\n fresh ${JSON.stringify(fresh[resource]?.[id])}`,
        );
      }
    }
  }
  console.log(
    `${client.name} differs on ${[...ids].join(', ')}; hellos ${client.live.hellos.length}, ` +
      `resyncs ${client.live.resyncs.join(',')}, revoked ${client.live.revoked.length}, told:\n  ${told.join('\n  ')}`,
  );
}

// ---------------------------------------------------------------- the test
beforeAll(setup, 120_000);
afterAll(() => {
  for (const client of clients) client.live?.close();
});

describe('live sync model', () => {
  it(
    `${OPS} random operations: no client ever receives what it may not see, and each equals a fresh fetch at every quiet point`,
    async () => {
      expect(clients.length).toBeGreaterThanOrEqual(20);
      const op = fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat());
      const outcome = await fc.check(
        fc.asyncProperty(fc.array(op, { minLength: OPS, maxLength: OPS }), async (operations) => {
          for (const [index, operation] of operations.entries()) {
            let started = performance.now();
            await run(operation);
            spent.ops += performance.now() - started;
            if ((index + 1) % QUIET_EVERY === 0) {
              started = performance.now();
              await quietPoint();
              spent.quiet += performance.now() - started;
            }
          }
          await quietPoint();
        }),
        {
          numRuns: 1,
          endOnFailure: true,
          ...(process.env.MODEL_SEED ? { seed: Number(process.env.MODEL_SEED) } : {}),
        },
      );
      // The failing case is 10,000 operations long: report the seed to replay it, not the list.
      if (outcome.failed) {
        console.log(`live model failed; replay with MODEL_SEED=${outcome.seed} MODEL_OPS=${OPS}`);
        throw outcome.errorInstance;
      }
      console.log(
        `live model: ${counts.ops} operations (${counts.succeeded} accepted), ${clients.length} clients, ` +
          `${counts.deliveries} deliveries checked for leaks (${counts.checked}), ` +
          `${counts.quietPoints} quiet points, ${counts.compared} client states compared with a fresh fetch ` +
          `(operations ${Math.round(spent.ops / 1000)} s, quiet points ${Math.round(spent.quiet / 1000)} s); ` +
          `accepted/tried: ${Object.entries(tally)
            .map(([kind, [tried, accepted]]) => `${kind} ${accepted}/${tried}`)
            .join(', ')}`,
      );
      const judgedTotal = Object.values(verdicts).reduce(
        (sum, [permitted, forbidden]) => [sum[0]! + permitted, sum[1]! + forbidden],
        [0, 0],
      );
      console.log(
        `permission oracle: ${judgedTotal[0]} writes permitted and accepted, ${judgedTotal[1]} forbidden ` +
          `and refused as it said; permitted/forbidden: ${Object.entries(verdicts)
            .map(([kind, [permitted, forbidden]]) => `${kind} ${permitted}/${forbidden}`)
            .join(', ')}; refused as: ${Object.entries(refusedAs)
            .map(([answer, n]) => `${answer} ×${n}`)
            .join(', ')}`,
      );
      if (process.env.MODEL_TRACE) console.log(perKind);
      expect(counts.ops).toBeGreaterThanOrEqual(OPS);
      expect(counts.checked).toBe(counts.deliveries);
      expect(misjudged).toEqual([]);
      // Both sides of the oracle were exercised.
      expect(judgedTotal[0]).toBeGreaterThan(0);
      expect(judgedTotal[1]).toBeGreaterThan(0);
    },
    30 * 60_000,
  );
});
