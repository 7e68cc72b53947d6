import { ZId } from '@/lib/shared/schemas/common';
import { notFound } from '@/lib/server/errors/domain-error';

/** The `{id}` of a route; a malformed id is simply not found. */
export function idParam(params: { id: string }, what: string): string {
  const parsed = ZId.safeParse(params.id);
  if (!parsed.success) throw notFound(what);
  return parsed.data;
}

/** `{id}` and `{n}` of a card's revision; either malformed is simply not found. */
export function revisionParams(params: { id: string; n: string }): { id: string; n: number } {
  const id = idParam(params, 'card');
  if (!/^[1-9]\d{0,8}$/.test(params.n)) throw notFound('revision');
  return { id, n: Number(params.n) };
}
