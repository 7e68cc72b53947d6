import { z } from 'zod';
import { LIVE_RESOURCES } from './change';

/**
 * Presence topics (DESIGN §2 "Collaboration"): a record (`customers:<id>`) — shared by
 * everyone who may see that record — or a page (`page:customers`) — shared only by the
 * people of the same account, since a list page shows each account its own data.
 */
export const PRESENCE_PAGES = ['overview', ...LIVE_RESOURCES] as const;
export const ZPresenceTopic = z.union([
  z.templateLiteral([z.enum(LIVE_RESOURCES), ':', z.uuid()]),
  z.templateLiteral(['page:', z.enum(PRESENCE_PAGES)]),
]);
export type TPresenceTopic = z.infer<typeof ZPresenceTopic>;

/**
 * A record's id in any case names one record (PostgreSQL compares uuids so) and so one
 * room: lower-cased, as the server builds a topic from a stored id, else an upper-case
 * join would watch unseen by the others and linger after the record left the viewer.
 */
export const ZPresenceRequest = z.strictObject({
  topic: ZPresenceTopic.transform((topic) => topic.toLowerCase() as TPresenceTopic),
});

/** At most this many topics per socket: a page and a record or two is the real use. */
export const MAX_PRESENCE_TOPICS = 16;

const ZPresenceActor = z.union([
  z.object({ kind: z.literal('user'), id: z.string(), name: z.string(), email: z.string() }),
  z.object({ kind: z.literal('account'), name: z.string() }),
]);

/**
 * Who is there, as this viewer may know them: a person by name only to viewers who may
 * read that user, otherwise the person's account ("Carrier"); one entry per person
 * however many tabs, `you` for the viewer's own.
 */
export const ZPresence = z.object({
  topic: ZPresenceTopic,
  members: z.array(z.object({ actor: ZPresenceActor, you: z.boolean(), since: z.string() })),
});
export type TPresence = z.infer<typeof ZPresence>;

/** Acknowledgement of a client event: done, or why not. */
export type TAck = { ok: true } | { ok: false; error: { code: string; message: string } };
