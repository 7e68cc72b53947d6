import { randomUUID } from 'node:crypto';
import type { TAccount } from '@/lib/server/entities';

/**
 * Where a new account sits in the tree: its materialized path (ancestors' ids then its
 * own, each followed by '/') and its depth. The database checks the same shape.
 */
export function placeInTree(
  parent: Pick<TAccount, 'path' | 'depth'> | null,
  id: string = randomUUID(),
): { id: string; path: string; depth: number } {
  return {
    id,
    path: (parent ? parent.path : '') + id + '/',
    depth: parent ? parent.depth + 1 : 0,
  };
}

/** The ids on a materialized path, root first, the account itself last. */
export function ancestorIds(path: string): string[] {
  return path.split('/').filter(Boolean);
}
