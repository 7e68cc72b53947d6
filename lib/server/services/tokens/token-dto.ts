import type { TApiToken } from '@/lib/server/entities';
import type { TTokenDto } from '@/lib/shared/schemas/tokens';

export function toTokenDto(row: TApiToken): TTokenDto {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
  };
}
