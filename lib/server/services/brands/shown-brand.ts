import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { isWithin } from '@/lib/server/authz/scope';
import { brandLook, DEFAULT_BRAND_LOOK, type TBrandLook } from '@/lib/shared/schemas/brands';
import { brandForHost, effectiveBrand, type TResolvedBrand } from './brands';

/** What a page shows of a brand: never which account it belongs to. */
export interface TShownBrand extends TBrandLook {
  /** The request came in on a brand's hostname: sign-in is that brand's subtree only. */
  portal: boolean;
}

/**
 * The brand a page shows (issue 19). On a brand's hostname, that brand — to anyone not
 * signed in, and to whoever is signed in there, who belongs to its subtree (sign-in is
 * limited to it). Elsewhere (the main URL) a signed-in person sees the brand that
 * applies to its own account: its own, else the nearest above, up to the carrier's; the
 * product's default when none, and to someone not signed in. So a reseller's people and
 * customers never see the carrier's name while the reseller or anyone between has one.
 */
export async function shownBrand(
  em: EntityManager,
  hostname: string | null,
  actor: TActor | null,
): Promise<TShownBrand> {
  const onHost = hostname ? await brandForHost(em, hostname) : null;
  if (onHost && (!actor || isWithin(onHost.accountPath, actor.account.path))) {
    return toShown(onHost, true);
  }
  const own = actor ? await effectiveBrand(em, actor.account.path) : null;
  return toShown(own, Boolean(onHost));
}

function toShown(resolved: TResolvedBrand | null, portal: boolean): TShownBrand {
  return { ...(resolved ? brandLook(resolved.brand) : DEFAULT_BRAND_LOOK), portal };
}
