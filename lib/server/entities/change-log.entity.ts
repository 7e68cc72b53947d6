import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const CHANGE_OPS = ['created', 'updated', 'deleted'] as const;

/** Entries that can change what someone may see (lib/server/services/events/catch-up.ts). */
export const ACCESS_INDEX_SQL = `create index "change_log_access_index" on "change_log" ("seq") where affects_access`;

/**
 * The change log (DESIGN §2): one append-only row per mutation of one entity, written in
 * the mutation's own transaction, after an advisory transaction lock, so `seq` order is
 * commit order. It is the audit trail (kept forever) and the source of live events.
 * `scopeBefore`/`scopeAfter` are the entity's scope paths (lib/server/authz/scope.ts)
 * before and after the change: who could see it, and who can now.
 */
export const ChangeLogEntry = defineEntity({
  name: 'ChangeLogEntry',
  tableName: 'change_log',
  indexes: [
    {
      name: 'change_log_scope_after_index',
      expression:
        'create index "change_log_scope_after_index" on "change_log" ("scope_after" text_pattern_ops)',
    },
    {
      name: 'change_log_scope_before_index',
      expression:
        'create index "change_log_scope_before_index" on "change_log" ("scope_before" text_pattern_ops)',
    },
    {
      // Catch-up asks, on every page, whether the caller's access changed since its
      // point: only these entries can say so, a small part of the log.
      name: 'change_log_access_index',
      expression: ACCESS_INDEX_SQL,
    },
  ],
  properties: {
    seq: p.bigint('number').primary().autoincrement(),
    at: p.datetime().onCreate(() => new Date()),
    actorUserId: p.uuid().nullable(),
    actorAccountId: p.uuid().nullable(),
    impersonatorUserId: p.uuid().nullable(),
    resource: p.string().length(40),
    entityId: p.uuid().index(),
    op: p.enum([...CHANGE_OPS]),
    version: p.integer().nullable(),
    before: p.json<Record<string, unknown>>().nullable(),
    after: p.json<Record<string, unknown>>().nullable(),
    scopeBefore: p.text().nullable(),
    scopeAfter: p.text().nullable(),
    /** The public summary, typed per resource (lib/shared/live/change-summary.ts). */
    summary: p.json<Record<string, unknown>>().nullable(),
    /** Routing hints for the audience function alone: never leaves the server. */
    audience: p.json<Record<string, unknown>>().nullable(),
    /** Computed once at write (lib/server/live/affects-access.ts). */
    affectsAccess: p.boolean().default(false),
    /**
     * The writing transaction (top level, savepoints included): how the commit guard
     * finds "this transaction's" rows, now that `at` is the moment of writing.
     */
    txid: p.bigint('number').defaultRaw('txid_current()'),
  },
});

export type TChangeLogEntry = InferEntity<typeof ChangeLogEntry>;
