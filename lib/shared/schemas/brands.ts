import { z } from 'zod';
import { ZEmailAddress, ZNameText, ZText, ZVersion } from './common';

/** At most this many hostnames per brand (issue 19). */
export const BRAND_MAX_HOSTNAMES = 10;

/** A logo's types (issue 19): raster PNG and WebP, and SVG (sanitised on upload). */
export const LOGO_TYPES = ['image/png', 'image/webp', 'image/svg+xml'] as const;
export type TLogoType = (typeof LOGO_TYPES)[number];

/** A logo is at most 256 KiB, as sent and as stored (an SVG as sanitised). */
export const LOGO_MAX_BYTES = 256 * 1024;

/** Where a logo is served, by its content's SHA-256: public, no account id in it. */
export function logoUrlOf(sha256: string): string {
  return `/api/v1/logos/${sha256}`;
}

/** The product's own name: what applies where no account on the path has a brand. */
export const DEFAULT_BRAND_NAME = 'Reseller Panel';

/** How a brand looks on a page: its name, colours, contacts and logo. */
export interface TBrandLook {
  displayName: string;
  /** Null: the product's own colours. */
  primaryColor: string | null;
  accentColor: string | null;
  supportEmail: string | null;
  supportUrl: string | null;
  /** The brand's logo (`/api/v1/logos/{sha256}`, public and inert), or null. */
  logoUrl: string | null;
}

/** The look where no brand applies: the product's own name and colours. */
export const DEFAULT_BRAND_LOOK: Readonly<TBrandLook> = Object.freeze({
  displayName: DEFAULT_BRAND_NAME,
  primaryColor: null,
  accentColor: null,
  supportEmail: null,
  supportUrl: null,
  logoUrl: null,
});

/** A brand's look (a stored brand, or a resolved one's). */
export function brandLook(brand: TBrandLook): TBrandLook {
  return {
    displayName: brand.displayName,
    primaryColor: brand.primaryColor,
    accentColor: brand.accentColor,
    supportEmail: brand.supportEmail,
    supportUrl: brand.supportUrl,
    logoUrl: brand.logoUrl,
  };
}

const ZColour = ZText('is required')
  .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour written #rrggbb')
  .transform((colour) => colour.toLowerCase());

/**
 * A hostname a portal answers on: a DNS name, lower-cased, without a scheme, port, path
 * or trailing dot; its last label starts with a letter (never an IP address). The
 * database checks the same shape (Migration20261209100000).
 */
export const ZHostname = ZText('is required')
  .trim()
  .toLowerCase()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a host name such as portal.example.com (no scheme, port or path)',
  );

/**
 * `PUT /accounts/{id}/brand`: the whole brand with its hostnames. `version` is the brand's
 * as read (absent: there is none yet); a stale or missing one when a brand exists is 409.
 */
export const ZBrandPut = z.strictObject({
  version: ZVersion.optional(),
  displayName: ZNameText(80, 'must be 1 to 80 characters'),
  primaryColor: ZColour,
  accentColor: ZColour,
  supportEmail: ZEmailAddress.nullable().default(null),
  supportUrl: ZText()
    .max(2000, 'is too long')
    .refine(isHttpsUrl, 'must be an https:// URL')
    .nullable()
    .default(null),
  hostnames: z
    .array(ZHostname)
    .max(BRAND_MAX_HOSTNAMES, `must list at most ${BRAND_MAX_HOSTNAMES} hostnames`)
    .refine((names) => new Set(names).size === names.length, 'must not repeat a hostname')
    .default([]),
});
export type TBrandPut = z.infer<typeof ZBrandPut>;

function isHttpsUrl(value: string): boolean {
  // As written, not only as the URL parser reads it: it takes "HTTPS://…", " https://…"
  // and "https:host" too, which the database's check (like 'https://%') refuses.
  if (!value.startsWith('https://')) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** An account's own brand. */
export const ZBrandDto = z.object({
  accountId: z.string(),
  displayName: z.string(),
  primaryColor: z.string(),
  accentColor: z.string(),
  supportEmail: z.string().nullable(),
  supportUrl: z.string().nullable(),
  hostnames: z.array(z.string()),
  /** The logo's public URL (`GET /logos/{sha256}`), or null: none uploaded. */
  logoUrl: z.string().nullable(),
  version: z.number().int(),
  updatedAt: z.string(),
});
export type TBrandDto = z.infer<typeof ZBrandDto>;

/**
 * The brand that applies to an account: the nearest at or above it. `accountId` names the
 * account it comes from only when the caller may see that account (its own side or
 * below); a reseller whose brand is the carrier's learns the carrier's name and colours,
 * never which account they are. `null` with `source: 'default'`: the product's own.
 */
export const ZEffectiveBrand = z.object({
  source: z.enum(['own', 'inherited', 'default']),
  accountId: z.string().nullable(),
  displayName: z.string(),
  primaryColor: z.string().nullable(),
  accentColor: z.string().nullable(),
  supportEmail: z.string().nullable(),
  supportUrl: z.string().nullable(),
  logoUrl: z.string().nullable(),
});
export type TEffectiveBrand = z.infer<typeof ZEffectiveBrand>;

/** `GET /accounts/{id}/brand`. */
export const ZBrandView = z.object({
  brand: ZBrandDto.nullable(),
  effective: ZEffectiveBrand,
});
export type TBrandView = z.infer<typeof ZBrandView>;
