import { ZId } from '@/lib/shared/schemas/common';
import { notFound } from '@/lib/server/errors/domain-error';

/** The `{id}` of a route; a malformed id is simply not found. */
export function idParam(params: { id: string }, what: string): string {
  const parsed = ZId.safeParse(params.id);
  if (!parsed.success) throw notFound(what);
  return parsed.data;
}
