import type { TGroup } from '@/lib/server/entities';
import type { TGrant } from '@/lib/shared/permissions';
import { useOnlyView, type TGroupDto, type TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import type { TGroupRelation } from './group-access';

export function toGroupDto(group: TGroup, relation: TGroupRelation): TGroupDto | TUseOnlyGroupDto {
  const grants = group.grants as TGrant[];
  if (relation === 'use-only') return useOnlyView(group);
  return {
    id: group.id,
    name: group.name,
    accountId: group.account.id,
    grants,
    template: group.template ?? null,
    requireMfa: group.requireMfa ?? false,
    useOnly: false,
    version: group.version,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
  };
}
