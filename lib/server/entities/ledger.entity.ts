import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { LEDGER_KINDS } from '@/lib/shared/schemas/ledger';
import { Account } from './account.entity';

export type { TLedgerKind } from '@/lib/shared/schemas/ledger';

/**
 * The money ledger (issue 17): append-only (a trigger refuses UPDATE and DELETE, as for
 * the change log). Each row is one movement with both of its sides: it credits
 * `account` by `amount` (a negative amount debits it) and debits the books of
 * `counterparty`, the account's parent, by the same (null: a carrier's own books).
 * `amount` is in the account's currency at the time (`currency`), and the account's
 * `balance` moves in the same transaction, so the balance is never recomputed on read.
 * A payment's idempotency key is unique per account and per the account that recorded it
 * (`actorAccountId`): a retried request finds the row its first attempt wrote, whatever
 * the order the retries commit in, and two sides that may both pay an account (its
 * parent and the carrier, say) never meet each other's keys. The same side's key sent
 * for another account is refused (`keyedEntry`).
 */
export const LedgerEntry = defineEntity({
  name: 'LedgerEntry',
  tableName: 'ledger_entry',
  uniques: [
    {
      name: 'ledger_entry_idempotency_unique',
      properties: ['account', 'actorAccountId', 'idempotencyKey'],
    },
  ],
  checks: [
    { name: 'ledger_entry_amount_check', expression: '(amount <> (0)::numeric)' },
    {
      name: 'ledger_entry_key_actor_check',
      expression: '((idempotency_key IS NULL) OR (actor_account_id IS NOT NULL))',
    },
  ],
  indexes: [
    { name: 'ledger_entry_account_index', properties: ['account', 'id'] },
    // A payment's or correction's key names one movement of one account for its side:
    // looked up by the side alone (Migration20261227100000, `keyedEntry`).
    {
      name: 'ledger_entry_actor_key',
      expression: `create index "ledger_entry_actor_key" on "ledger_entry" ("actor_account_id", "idempotency_key") where idempotency_key is not null and kind <> 'usage'`,
    },
  ],
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    account: () => p.manyToOne(Account).deleteRule('restrict'),
    counterparty: () => p.manyToOne(Account).deleteRule('restrict').nullable().index(),
    kind: p.enum([...LEDGER_KINDS]),
    amount: p.decimal('string').precision(18).scale(6),
    currency: p.string().length(3),
    /** The account's balance once this entry is counted (in `currency`). */
    balanceAfter: p.decimal('string').precision(18).scale(6),
    reference: p.string().length(200).nullable(),
    idempotencyKey: p.string().length(100).nullable(),
    /** What the first request with the key asked for: a retry must ask the same. */
    requestHash: p.string().length(64).nullable(),
    /** Who did it: the user, and the account it acted for (on whose behalf). */
    actorUserId: p.uuid().nullable(),
    actorAccountId: p.uuid().nullable(),
    impersonatorUserId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export type TLedgerEntry = InferEntity<typeof LedgerEntry>;
