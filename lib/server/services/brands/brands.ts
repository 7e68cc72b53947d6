import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { ancestorPrefixes, isWithin, onPathSql } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict, invalidInput, notFound, staleVersion } from '@/lib/server/errors/domain-error';
import { mutate, type TChange } from '@/lib/server/live/change-log';
import { AA_LARGE, AA_TEXT, contrastRatio } from '@/lib/shared/contrast';
import {
  brandLook,
  DEFAULT_BRAND_LOOK,
  ZHostname,
  type TBrandDto,
  type TBrandPut,
  type TBrandView,
  type TEffectiveBrand,
  logoUrlOf,
} from '@/lib/shared/schemas/brands';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { findRuntime } from '@/lib/server/runtime';
import { invalidatePortalHostnames } from './portal-hostnames';
import { endSessionsOnHosts } from '@/lib/server/auth/sessions';

/**
 * Brands (issue 19): an account's portal name, colours, support contacts and hostnames,
 * in `brand` and `brand_hostname` (Migration20261209100000), read and written in SQL;
 * its logo is `brand-logo.ts` beside this (the DTO's `logoUrl`).
 * Who may: `brand:read` / `brand:update` on the account itself or below it (its own
 * side, and a parent's side for its children); anything else is 404 like every account
 * lookup (`readAccountInScope`). Every change is in the change log as resource `brands`
 * with the account's own path as its scope: the audit shows it to that account's side
 * and above, never to a sibling; it does not travel live (no list shows brands yet).
 */

export interface TBrandRow {
  id: string;
  display_name: string;
  primary_color: string;
  accent_color: string;
  support_email: string | null;
  support_url: string | null;
  version: number;
  updated_at: string | Date;
  hostnames: string[];
  /** The logo's hash (brand_logo, Migration20261213100000), or null: no logo. */
  logo_sha256: string | null;
}

const WHITE = '#ffffff';

/** The brand's columns with its hostnames, sorted; `b` is the brand's alias. */
const BRAND_COLUMNS = `b.id, b.display_name, b.primary_color, b.accent_color, b.support_email,
  b.support_url, b.version, b.updated_at,
  array(select h.hostname::text from brand_hostname h where h.brand_id = b.id
         order by h.hostname) as hostnames,
  (select l.sha256 from brand_logo l where l.account_id = b.id) as logo_sha256`;

export function toBrandDto(row: TBrandRow): TBrandDto {
  return {
    accountId: row.id,
    displayName: row.display_name,
    primaryColor: row.primary_color,
    accentColor: row.accent_color,
    supportEmail: row.support_email,
    supportUrl: row.support_url,
    hostnames: row.hostnames,
    logoUrl: row.logo_sha256 ? logoUrlOf(row.logo_sha256) : null,
    version: row.version,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function ownBrandRow(
  em: EntityManager,
  accountId: string,
  lock = false,
): Promise<TBrandRow | null> {
  const [row] = await directQuery<TBrandRow>(
    em,
    `select ${BRAND_COLUMNS} from brand b where b.id = ? ${lock ? 'for update of b' : ''}`,
    [accountId],
  );
  return row ?? null;
}

/** A brand that applies somewhere, and the account (id and path) whose it is. */
export interface TResolvedBrand {
  accountId: string;
  accountPath: string;
  brand: TBrandDto;
}

/**
 * The brand that applies to the account at `accountPath`: its own, else the nearest
 * ancestor's, up to the carrier's; null when none on the path has one (the product's
 * default, `DEFAULT_BRAND_NAME`, applies). One statement on the path's ids: a sibling's
 * or a child's brand is never on it. `withHostname`: the nearest brand that answers on a
 * hostname — the portal the account's people sign in at (a sub-reseller with a name of
 * its own but no hostname signs in on its parent's portal).
 */
export async function effectiveBrand(
  em: EntityManager,
  accountPath: string,
  { withHostname = false }: { withHostname?: boolean } = {},
): Promise<TResolvedBrand | null> {
  const onPath = onPathSql('b.id', accountPath);
  const [row] = await directQuery<TBrandRow>(
    em,
    `select ${BRAND_COLUMNS} from brand b where ${onPath.sql}
      ${withHostname ? 'and exists (select 1 from brand_hostname h where h.brand_id = b.id)' : ''}
      order by array_position(string_to_array(rtrim(?, '/'), '/')::uuid[], b.id) desc
      limit 1`,
    [...onPath.params, accountPath],
  );
  if (!row) return null;
  const accountPathOf = ancestorPrefixes(accountPath).find(([id]) => id === row.id)![1];
  return { accountId: row.id, accountPath: accountPathOf, brand: toBrandDto(row) };
}

/**
 * The brand owning `host` (a request's Host: any case, a port or a trailing dot are
 * ignored) and its account, or null — also for what is not a hostname at all.
 */
export async function brandForHost(
  em: EntityManager,
  host: string,
): Promise<TResolvedBrand | null> {
  const parsed = ZHostname.safeParse(host.replace(/:\d{1,5}$/, '').replace(/\.$/, ''));
  // The panel's own names are nobody's portal, even if a brand holds one from before
  // they were refused: the whole installation signs in there.
  if (!parsed.success || isPanelHostname(parsed.data)) return null;
  const [row] = await directQuery<TBrandRow & { path: string }>(
    em,
    `select ${BRAND_COLUMNS}, a.path from brand_hostname bh
       join brand b on b.id = bh.brand_id
       join account a on a.id = b.id
      where bh.hostname = ?`,
    [parsed.data],
  );
  if (!row) return null;
  return { accountId: row.id, accountPath: row.path, brand: toBrandDto(row) };
}

/**
 * `GET /accounts/{id}/brand`: the account's own brand (or null) and the one that applies.
 * The account an inherited brand comes from is named only when the caller may see it
 * (its own or below): a reseller without a brand of its own sees the carrier's colours,
 * never which account they belong to.
 */
export async function readBrand(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<TBrandView> {
  assertCan(actor, 'brand:read');
  const { account } = await readAccountInScope(em, actor, unverifiedId, { within: true });
  const resolved = await effectiveBrand(em, account.path);
  const own = resolved?.accountId === account.id ? resolved.brand : null;
  return { brand: own, effective: effectiveView(actor, account.id, resolved) };
}

function effectiveView(
  actor: TActor,
  accountId: string,
  resolved: TResolvedBrand | null,
): TEffectiveBrand {
  if (!resolved) return { source: 'default', accountId: null, ...DEFAULT_BRAND_LOOK };
  return {
    source: resolved.accountId === accountId ? 'own' : 'inherited',
    accountId: isWithin(actor.account.path, resolved.accountPath) ? resolved.accountId : null,
    ...brandLook(resolved.brand),
  };
}

/**
 * The colours' contrast (WCAG AA): the primary carries white text (buttons), so 4.5:1
 * against white; the accent marks controls on a white page, so 3:1. The refusal names
 * the field and the ratio found.
 */
function checkContrast(body: TBrandPut): void {
  const fields: Record<string, string> = {};
  const primary = contrastRatio(body.primaryColor, WHITE);
  if (primary < AA_TEXT) {
    fields.primaryColor = `must have a contrast ratio of at least ${AA_TEXT}:1 with white text (WCAG AA); ${body.primaryColor} has ${shown(primary)}:1`;
  }
  const accent = contrastRatio(body.accentColor, WHITE);
  if (accent < AA_LARGE) {
    fields.accentColor = `must have a contrast ratio of at least ${AA_LARGE}:1 on a white background (WCAG AA); ${body.accentColor} has ${shown(accent)}:1`;
  }
  if (Object.keys(fields).length) throw invalidInput(fields);
}

/** Two decimals, cut rather than rounded: a failing 2.996 must not read as "3.00". */
function shown(ratio: number): string {
  return (Math.floor(ratio * 100) / 100).toFixed(2);
}

function sameBrand(row: TBrandRow, body: TBrandPut): boolean {
  return (
    row.display_name === body.displayName &&
    row.primary_color === body.primaryColor &&
    row.accent_color === body.accentColor &&
    row.support_email === body.supportEmail &&
    row.support_url === body.supportUrl &&
    [...body.hostnames].sort().join(' ') === row.hostnames.join(' ')
  );
}

export function brandChange(
  op: 'created' | 'updated' | 'deleted',
  accountPath: string,
  before: TBrandDto | null,
  after: TBrandDto | null,
): TChange {
  return {
    resource: 'brands',
    entityId: (after ?? before)!.accountId,
    op,
    version: after?.version ?? before!.version,
    before: before ? { ...before } : null,
    after: after ? { ...after } : null,
    scopeBefore: before ? accountPath : null,
    scopeAfter: after ? accountPath : null,
  };
}

/**
 * `PUT /accounts/{id}/brand`: sets the whole brand, hostnames included. Optimistic like
 * the other edits: `version` is the brand's as read (absent for a first brand); stale is
 * 409 with the current one. A hostname another brand holds — in any tenant — is 409
 * `hostname_taken`, naming the hostname and never whose it is; the table's key decides,
 * so two brands claiming one hostname at the same moment cannot both have it.
 */
export async function putBrand(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  body: TBrandPut,
): Promise<{ brand: TBrandDto; created: boolean }> {
  assertCan(actor, 'brand:update');
  // Committed or not, the sockets' allowed origins are read again (portal-hostnames.ts).
  return mutate(em, actor, async (tx, record) => {
    // The account's row is held: one change to its brand at a time.
    const { account } = await readAccountInScope(tx, actor, unverifiedId, {
      within: true,
      lock: true,
    });
    const existing = await ownBrandRow(tx, account.id, true);
    const current = existing ? toBrandDto(existing) : null;
    if ((body.version ?? null) !== (current?.version ?? null)) throw staleVersion(current);
    checkContrast(body);
    checkNotPanelHostnames(body.hostnames);
    if (existing && sameBrand(existing, body)) return { brand: current!, created: false };

    const now = new Date();
    const values = [
      body.displayName,
      body.primaryColor,
      body.accentColor,
      body.supportEmail,
      body.supportUrl,
      now,
    ];
    if (existing) {
      await directQuery(
        tx,
        `update brand set display_name = ?, primary_color = ?, accent_color = ?,
                support_email = ?, support_url = ?, updated_at = ?, version = version + 1
          where id = ?`,
        [...values, account.id],
      );
    } else {
      await directQuery(
        tx,
        `insert into brand (display_name, primary_color, accent_color, support_email,
                            support_url, updated_at, id, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)`,
        [...values, account.id, now],
      );
    }
    const { removed, added } = await writeHostnames(tx, account.id, body.hostnames);
    await endSessionsOnHosts(tx, record, removed);
    await endSessionsOnHosts(tx, record, added, { portalPath: account.path });
    const after = toBrandDto((await ownBrandRow(tx, account.id))!);
    record(brandChange(existing ? 'updated' : 'created', account.path, current, after));
    return { brand: after, created: !existing };
  }).finally(invalidatePortalHostnames);
}

/** One of the panel's own hostnames (`PUBLIC_URL`'s, `PANEL_HOSTNAMES`). */
function isPanelHostname(hostname: string): boolean {
  return findRuntime()?.config.panelHostnames.includes(hostname) ?? false;
}

/**
 * A brand's hostname signs in only its own subtree, so one of the panel's own names would
 * lock every other user out of the panel there and show the brand's look to everyone:
 * 400 naming it, whoever asks.
 */
function checkNotPanelHostnames(hostnames: readonly string[]): void {
  const fields: Record<string, string> = {};
  hostnames.forEach((hostname, index) => {
    if (isPanelHostname(hostname)) fields[`hostnames.${index}`] = 'is the panel’s own hostname';
  });
  if (Object.keys(fields).length) throw invalidInput(fields);
}

/**
 * The brand's hostnames become exactly `hostnames`. A new one is inserted unless any
 * brand holds it; one that went in neither now nor before is someone else's (or was
 * taken by a transaction committed meanwhile: the insert waited for it).
 */
async function writeHostnames(
  tx: EntityManager,
  brandId: string,
  hostnames: readonly string[],
): Promise<{ removed: string[]; added: string[] }> {
  const list = `{${hostnames.join(',')}}`;
  const removed = await directQuery<{ hostname: string }>(
    tx,
    `delete from brand_hostname where brand_id = ? and hostname <> all(?::text[])
     returning hostname`,
    [brandId, list],
  );
  const kept = await directQuery<{ hostname: string }>(
    tx,
    `select hostname from brand_hostname where brand_id = ? and hostname = any(?::text[])`,
    [brandId, list],
  );
  const gone = removed.map((row) => row.hostname);
  const had = new Set(kept.map((row) => row.hostname));
  const wanted = hostnames.filter((hostname) => !had.has(hostname));
  if (!wanted.length) return { removed: gone, added: [] };
  const inserted = await directQuery<{ hostname: string }>(
    tx,
    `insert into brand_hostname (hostname, brand_id)
     select h, ? from unnest(?::text[]) h
     on conflict (hostname) do nothing returning hostname`,
    [brandId, `{${wanted.join(',')}}`],
  );
  const added = new Set(inserted.map((row) => row.hostname));
  const taken = wanted.filter((hostname) => !added.has(hostname));
  if (taken.length) {
    throw conflict('hostname_taken', `The hostname ${taken[0]} is already in use.`, {
      hostnames: taken,
    });
  }
  return { removed: gone, added: [...added] };
}

/** `DELETE /accounts/{id}/brand`: the account goes back to the brand above it. */
export async function deleteBrand(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
): Promise<void> {
  assertCan(actor, 'brand:update');
  await mutate(em, actor, async (tx, record) => {
    const { account } = await readAccountInScope(tx, actor, unverifiedId, {
      within: true,
      lock: true,
    });
    if (!(await removeBrandOf(tx, record, account))) throw notFound('brand');
  }).finally(invalidatePortalHostnames);
}

/**
 * Removes an account's own brand inside the caller's `mutate`, as `DELETE …/brand` does:
 * sessions opened on its hostnames end, and the change is recorded (audit `brands`; every
 * process drops its hostname list when the fan-out passes it). The caller invalidates
 * this process's list after the commit (`invalidatePortalHostnames`). False: it had none.
 * Also the account's delete (delete-sub-account.ts): a cascade would drop the brand,
 * its hostnames and its logo with no record, the freed hostnames still admitted as an
 * origin by every process until the next brand change.
 */
export async function removeBrandOf(
  tx: EntityManager,
  record: (change: TChange) => void,
  account: { id: string; path: string },
): Promise<boolean> {
  const existing = await ownBrandRow(tx, account.id, true);
  if (!existing) return false;
  const hostnames = await directQuery<{ hostname: string }>(
    tx,
    `select hostname from brand_hostname where brand_id = ?`,
    [account.id],
  );
  await directQuery(tx, `delete from brand where id = ?`, [account.id]);
  await endSessionsOnHosts(
    tx,
    record,
    hostnames.map((row) => row.hostname),
  );
  record(brandChange('deleted', account.path, toBrandDto(existing), null));
  return true;
}
