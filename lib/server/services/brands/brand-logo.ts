import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { assertCan } from '@/lib/server/authz/can';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict, invalidInput, notFound } from '@/lib/server/errors/domain-error';
import { mutate } from '@/lib/server/live/change-log';
import { readAccountInScope } from '@/lib/server/services/accounts/account-scope';
import { LOGO_MAX_BYTES, type TBrandDto, type TLogoType } from '@/lib/shared/schemas/brands';
import { brandChange, ownBrandRow, toBrandDto } from './brands';
import { sanitizeSvg, SvgRejected } from './svg-sanitizer';

/**
 * A brand's logo (issue 19): one per brand, in `brand_logo` (Migration20261213100000),
 * PNG, WebP or SVG — an SVG stored only as `sanitizeSvg` rebuilt it. Set and removed
 * with `brand:update` on the same accounts as the brand itself, and logged as a change
 * of the brand (resource `brands`: its `logoUrl` and version change), so the audit
 * shows it where it shows the brand. Served by the hash of the stored bytes
 * (`GET /logos/{sha256}`): a sign-in page shows it before anyone signs in, and the URL
 * names no account.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What is stored for an upload: the bytes as sent, or an SVG as sanitised. */
export function logoBytes(type: TLogoType, body: Buffer): Buffer {
  if (body.length === 0) throw invalidInput({ body: 'is empty: send the image' });
  switch (type) {
    case 'image/png':
      if (!isPng(body))
        throw invalidInput({ body: 'is not a PNG image (the Content-Type says image/png)' });
      return body;
    case 'image/webp':
      if (!isWebp(body)) {
        throw invalidInput({ body: 'is not a WebP image (the Content-Type says image/webp)' });
      }
      return body;
    case 'image/svg+xml': {
      const svg = Buffer.from(sanitizedSvg(body), 'utf8');
      // Escaping can make the rebuilt file longer than the one sent (`>` becomes `&gt;`).
      if (svg.length > LOGO_MAX_BYTES) {
        throw invalidInput({ body: `is larger than ${LOGO_MAX_BYTES} bytes once sanitised` });
      }
      return svg;
    }
  }
}

function isPng(body: Buffer): boolean {
  return (
    body.length > 16 &&
    body.subarray(0, 8).equals(PNG_SIGNATURE) &&
    body.toString('latin1', 12, 16) === 'IHDR'
  );
}

function isWebp(body: Buffer): boolean {
  return (
    body.length > 16 &&
    body.toString('latin1', 0, 4) === 'RIFF' &&
    body.toString('latin1', 8, 12) === 'WEBP'
  );
}

function sanitizedSvg(body: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw invalidInput({ body: 'is not an SVG image (not UTF-8 text)' });
  }
  try {
    return sanitizeSvg(text);
  } catch (error) {
    if (error instanceof SvgRejected)
      throw invalidInput({ body: `is not an SVG image: it ${error.message}` });
    throw error;
  }
}

/**
 * `PUT /accounts/{id}/brand/logo`: the account's brand gets this logo (replacing any).
 * Who may is exactly who may `PUT` the brand; an account without a brand is 409
 * `no_brand` (set the brand first). The same logo again writes nothing.
 */
export async function putBrandLogo(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  type: TLogoType,
  body: Buffer,
): Promise<TBrandDto> {
  assertCan(actor, 'brand:update');
  const bytes = logoBytes(type, body);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return mutate(em, actor, async (tx, record) => {
    const { account } = await readAccountInScope(tx, actor, unverifiedId, {
      within: true,
      lock: true,
    });
    const existing = await ownBrandRow(tx, account.id, true);
    if (!existing) throw noBrand();
    const before = toBrandDto(existing);
    if (existing.logo_sha256 === sha256) return before;
    const now = new Date();
    await directQuery(
      tx,
      `insert into brand_logo (account_id, content_type, bytes, sha256, byte_size, updated_at)
       values (?, ?, ?, ?, ?, ?)
       on conflict (account_id) do update set content_type = excluded.content_type,
         bytes = excluded.bytes, sha256 = excluded.sha256, byte_size = excluded.byte_size,
         updated_at = excluded.updated_at`,
      [account.id, type, bytes, sha256, bytes.length, now],
    );
    const after = await bumpBrand(tx, account.id, now);
    record(brandChange('updated', account.path, before, after));
    return after;
  });
}

/** `DELETE /accounts/{id}/brand/logo`: the brand goes on without a logo. */
export async function deleteBrandLogo(
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
    const existing = await ownBrandRow(tx, account.id, true);
    if (!existing) throw noBrand();
    if (!existing.logo_sha256) throw notFound('logo');
    await directQuery(tx, `delete from brand_logo where account_id = ?`, [account.id]);
    const after = await bumpBrand(tx, account.id, new Date());
    record(brandChange('updated', account.path, toBrandDto(existing), after));
  });
}

/** A logo change is a change of the brand: its version moves (a stale PUT is 409). */
async function bumpBrand(tx: EntityManager, accountId: string, now: Date): Promise<TBrandDto> {
  await directQuery(tx, `update brand set version = version + 1, updated_at = ? where id = ?`, [
    now,
    accountId,
  ]);
  return toBrandDto((await ownBrandRow(tx, accountId))!);
}

function noBrand() {
  return conflict(
    'no_brand',
    'This account has no brand of its own: set its brand (PUT /accounts/{id}/brand) before its logo.',
  );
}

/** A stored logo by its hash (any account's: the hash names the content, not who has it). */
export async function readLogo(
  em: EntityManager,
  sha256: string,
): Promise<{ contentType: TLogoType; bytes: Buffer } | null> {
  const [row] = await directQuery<{ content_type: TLogoType; bytes: Buffer }>(
    em,
    `select content_type, bytes from brand_logo where sha256 = ? limit 1`,
    [sha256],
  );
  return row ? { contentType: row.content_type, bytes: row.bytes } : null;
}
