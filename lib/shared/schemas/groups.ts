import { z } from 'zod';
import { ALL_GRANTS, GROUP_TEMPLATE_KEYS, type TGrant } from '@/lib/shared/permissions';
import { ZEntityMeta, ZId, ZPageQuery, ZSort, ZNameText, ZText, ZVersion } from './common';

const ZGroupName = ZNameText(120);
export const ZGrant = z.enum(ALL_GRANTS as [TGrant, ...TGrant[]], 'is not a grant in the catalog');
const ZGrants = z
  .array(ZGrant, 'must be a list of grants')
  .max(ALL_GRANTS.length)
  .transform((grants) => [...new Set(grants)]);

/** Its users must use MFA (off by default; recommended for carrier admins and support). */
const ZRequireMfa = z.boolean('must be true or false');

export const ZGroupCreate = z.union([
  z.strictObject({
    name: ZGroupName,
    grants: ZGrants,
    accountId: ZId.optional(),
    requireMfa: ZRequireMfa.default(false),
  }),
  z.strictObject({
    template: z.enum(GROUP_TEMPLATE_KEYS, `must be one of ${GROUP_TEMPLATE_KEYS.join(', ')}`),
    name: ZGroupName.optional(),
    accountId: ZId.optional(),
    requireMfa: ZRequireMfa.default(false),
  }),
]);
export const ZGroupPatch = z.strictObject({
  version: ZVersion,
  name: ZGroupName.optional(),
  grants: ZGrants.optional(),
  requireMfa: ZRequireMfa.optional(),
});
export type TGroupCreate = z.infer<typeof ZGroupCreate>;
export type TGroupPatch = z.infer<typeof ZGroupPatch>;

/** A group the viewer may edit (owned in its subtree). */
export const ZGroupDto = ZEntityMeta.extend({
  name: z.string(),
  accountId: z.string(),
  grants: z.array(ZGrant),
  template: z.string().nullable(),
  requireMfa: z.boolean(),
  useOnly: z.literal(false),
});
export type TGroupDto = z.infer<typeof ZGroupDto>;

/**
 * An ancestor's group: only its name and grants, to those who may assign it, and its
 * version so a live copy can tell newer from older.
 */
export const ZUseOnlyGroupDto = z.object({
  id: z.string(),
  name: z.string(),
  grants: z.array(ZGrant),
  useOnly: z.literal(true),
  version: z.number().int(),
});
export type TUseOnlyGroupDto = z.infer<typeof ZUseOnlyGroupDto>;

/** The use-only projection of a group (REST and live events build it here). */
export function useOnlyView(group: {
  id: string;
  name: string;
  grants: readonly string[];
  version: number;
}): TUseOnlyGroupDto {
  return {
    id: group.id,
    name: group.name,
    grants: [...group.grants] as TGrant[],
    useOnly: true,
    version: group.version,
  };
}

/** `GET /groups`: a name search and a sort. */
export const ZGroupListQuery = ZPageQuery.extend({
  q: ZText().trim().max(200).optional(),
  /** The groups one account owns, among those the caller sees (a carrier's page of one reseller's groups). */
  accountId: ZId.optional(),
  sort: ZSort(['name', 'createdAt']),
  /**
   * Only the groups the caller may give a user of this account (its own or an
   * ancestor's, holding nothing the caller lacks); an account outside scope is 404.
   */
  assignableTo: ZId.optional(),
});
