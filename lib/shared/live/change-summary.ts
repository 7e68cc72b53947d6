import type { TLiveResource } from './change';
import type { TRevisionCounts } from '@/lib/shared/schemas/revisions';

/**
 * What a change amounts to beyond its before/after, per resource: the public part of a
 * change-log entry (events, audit). Routing hints for the audience function live in their
 * own server-only column (lib/server/live/change-log.ts), never here, so a summary can be
 * shown as it is stored.
 */
export interface TChangeSummaries {
  carriers: never;
  resellers: TAccountChangeSummary;
  customers: TAccountChangeSummary;
  users: TUserChangeSummary;
  groups: never;
  tokens: never;
  /** Signed out, or ended with the portal hostname it was signed in on. */
  sessions: { signedOut: true } | { hostRemoved: true } | { hostClaimed: true };
  impersonation: never;
  cards: TCardChangeSummary;
  assignments: TAssignmentChangeSummary;
  brands: never;
  statements: never;
  /** Notices marked read: how many. */
  notifications: { read: number };
}

export type TSummarizedResource = keyof TChangeSummaries;

/** One resource's summary, or none for a resource that never has one. */
export type TChangeSummaryOf<R extends TSummarizedResource> = TChangeSummaries[R];

/**
 * `refetch` names lists whose other entries changed with this one (a reseller's
 * suspension changes the effective status of everything below it; a rename the account
 * name its users and the parent name its sub-accounts carry); `reason` says why, for the
 * viewer.
 */
export type TAccountChangeSummary =
  | { refetch: TLiveResource[]; reason: 'status_cascade' | 'credit_cascade' | 'renamed' }
  | {
      reason: 'transfer';
      /** A transfer to an account in another currency, at the rate the request named. */
      conversion?: { from: string; to: string; rate: string };
    }
  | {
      /**
       * Calls of a customer stored by a rating batch that moved no balance (every one
       * unrated, or free): no ledger entry tells of them, and the traffic views over the
       * customer follow this instead. The account itself is as it was.
       */
      reason: 'calls';
      calls: number;
      unrated: number;
    }
  | {
      /** The balance moved: one ledger entry (issue 17), its amount in `currency`. */
      reason: 'ledger';
      kind: 'payment' | 'credit_note' | 'adjustment' | 'usage';
      amount: string;
      currency: string;
      entryId: string;
      /** A movement written by a transfer's currency conversion. */
      conversion?: { from: string; to: string; rate: string };
      /**
       * Usage (issue 18): the calls of one rated batch this movement charged; `amount`
       * is their sum and `entryId` the batch's entry (the first, if it made two).
       */
      calls?: number;
      /** A reseller blocked or unblocked for credit: what is below it changed too. */
      refetch?: TLiveResource[];
    }
  | {
      /**
       * The same movement as an account reader without `ledger:read` is told of it
       * (lib/server/authz/audience.ts): the balance on the account moved, by rated calls
       * or not, and nothing of the entry — no kind, amount, entry id or call count.
       */
      reason: 'balance';
      usage?: true;
      refetch?: TLiveResource[];
    };

/**
 * The card and the account by name, so the audit and the activity read as a sentence
 * ("… assigned Carrier Retail to Nimbus Telecom") without a lookup across scope: an
 * assignment is seen only by the card owner's side, which reads both. `reason` says why
 * one was removed.
 */
export interface TAssignmentChangeSummary {
  /** `card_renamed`: the assignment shows its card's new name (an `updated` entry). */
  reason?: 'transfer' | 'replaced' | 'card_renamed';
  cardName?: string;
  accountName?: string;
}

export interface TUserChangeSummary {
  /** Every session and token of the user ended (a reset, an MFA reset). */
  sessionsRevoked?: true;
  /** The user changed its own password: other sessions ended, tokens revoked. */
  passwordChanged?: true;
  /** Its other sessions that ended (a password change; MFA turned on). */
  sessionsEnded?: number;
  tokensRevoked?: number;
  mfa?: 'enrolment_started' | 'enabled' | 'disabled' | 'enrolment_cancelled' | 'reset';
  mfaRecoveryCodeUsed?: true;
  recoveryCodesLeft?: number;
}

export type TCardChangeSummary =
  | {
      event: 'rates_changed';
      cause: TRatesChangeCause;
      rows: number;
      losing: number;
      /** What the revision changed (absent when a scheduled one went live: told then). */
      counts?: TRevisionCounts;
    }
  | {
      /**
       * Rows of the card newly losing money (`count`, the first `prefixes`); with none,
       * rows that stopped losing (`cured`) or losses that moved with a provider card.
       */
      event: 'margin_alert';
      count: number;
      prefixes: string[];
      cured?: number;
    }
  | {
      /** A revision waits for its date (issue 16): the diff with the one before it. */
      event: 'revision_scheduled';
      cause: TRatesChangeCause;
      number: number;
      liveAt: string;
      rows: number;
      losing: number;
      counts: TRevisionCounts;
    }
  | { event: 'revision_cancelled'; number: number; liveAt: string };

export type TRatesChangeCause = 'put' | 'import' | 'parent' | 'markup' | 'rollback' | 'revision';

/**
 * Whether an account's change is of calls: a rated batch moved its balance (a `usage`
 * ledger entry) or stored calls for it that moved nothing (`calls`). The traffic views
 * follow these (lib/client/live-cache.ts), a reader without `ledger:read` is told of them
 * as `usage` (lib/server/authz/audience.ts), and the balance hold never loses them
 * (server/balance-hold.ts).
 */
export function isCallsChange(
  summary: Readonly<Record<string, unknown>> | null | undefined,
): boolean {
  return summary?.reason === 'calls' || (summary?.reason === 'ledger' && summary.kind === 'usage');
}
