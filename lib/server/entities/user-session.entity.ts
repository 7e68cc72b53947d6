import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './user.entity';

/**
 * One signed-in browser session (DESIGN §1 "Credentials enter through one door"). The
 * session cookie is a JWT naming this row (`sid`); the door admits the cookie only while
 * the row is unrevoked and unexpired, so signing out, or changing one's password, ends a
 * session on the server — a copied cookie stops working at once, not at its expiry.
 */
export const UserSession = defineEntity({
  name: 'UserSession',
  tableName: 'user_session',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    /** The hostname it signed in on: the cookie opens it there only. */
    host: p.string().length(253).nullable(),
  },
});
export type TUserSession = InferEntity<typeof UserSession>;
