import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const CHANGE_OPS = ['created', 'updated', 'deleted'] as const;

/** Entries that can change what someone may see (lib/server/services/events/catch-up.ts). */
export const ACCESS_INDEX_SQL = `create index "change_log_access_index" on "change_log" ("carrier_id", "carrier_seq") where affects_access`;

/**
 * The change log (DESIGN §2): one append-only row per mutation of one entity, written in
 * the mutation's own transaction as its last step. Carriers are isolated tenants and no
 * write spans two, so the order is kept per carrier: `carrierSeq` is drawn from the
 * carrier's row in `carrier_log_head`, whose row lock is held until commit, so within a
 * carrier `carrierSeq` order is commit order — the position clients resume from.
 * `seq` only names the row. It is the audit trail (kept forever) and the source of live
 * events.
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
  uniques: [
    {
      // A log position: one carrier's entries in commit order (the tailer, catch-up).
      name: 'change_log_carrier_position_unique',
      properties: ['carrierId', 'carrierSeq'],
    },
  ],
  properties: {
    seq: p.bigint('number').primary().autoincrement(),
    /** The carrier (tree root) whose tenant the entry belongs to. */
    carrierId: p.uuid(),
    /** The entry's place in its carrier's commit order, from 1. */
    carrierSeq: p.bigint('number'),
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

/**
 * Each carrier's last log position. A writer takes its positions by bumping this row as
 * the last statement of its transaction, so the row lock serialises one carrier's
 * writers from their position to their commit (another carrier's writers never wait),
 * and a reader sees here only positions whose rows have committed.
 */
export const CarrierLogHead = defineEntity({
  name: 'CarrierLogHead',
  tableName: 'carrier_log_head',
  properties: {
    carrierId: p.uuid().primary(),
    seq: p.bigint('number'),
  },
});
