import type { TAuditEntryDto, TLoggedResource } from './schemas/audit';
import { LOGGED_RESOURCES } from './schemas/audit';
import { formatMoney } from './format';

/**
 * A change-log entry (the audit, the activity feed) as one sentence naming the things
 * involved: "Carrier admin assigned Carrier Retail to Nimbus Telecom". Every name comes
 * from the entry itself (before/after, summary) as the server shaped it for this viewer,
 * never from a lookup across scope; a withheld entry says only what kind of thing changed.
 */
export type TActivityEntry = Pick<
  TAuditEntryDto,
  'resource' | 'op' | 'actor' | 'impersonator' | 'before' | 'after' | 'summary' | 'detail'
>;
type TOp = TActivityEntry['op'];

type TBody = Record<string, unknown>;
type TSentence = (who: string, op: TOp, entry: TActivityEntry, locale: string) => string;

const NOUN: Record<TLoggedResource, string> = {
  carriers: 'carrier',
  resellers: 'reseller',
  customers: 'customer',
  users: 'user',
  groups: 'group',
  tokens: 'API token',
  sessions: 'session',
  impersonation: 'view-as',
  cards: 'rate card',
  assignments: 'card assignment',
  brands: 'brand',
  statements: 'statement',
};

/** A logged resource as a person names it, capitalised: "Card assignment". */
export function resourceLabel(resource: string): string {
  const noun = NOUN[resource as TLoggedResource] ?? resource;
  return noun.charAt(0).toUpperCase() + noun.slice(1);
}

function unreachable(value: never): never {
  throw new Error(`unhandled change: ${String(value)}`);
}

function text(body: TBody | null, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = body?.[key];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

/** The entity's name as the entry carries it (after for a create/update, before for a delete). */
function nameOf(entry: TActivityEntry): string | undefined {
  return text(entry.after, 'name', 'email') ?? text(entry.before, 'name', 'email');
}

/** "created reseller Acme Voice" / "updated Acme Voice" / "deleted a group" */
function plain(who: string, op: TOp, entry: TActivityEntry, noun: string): string {
  const name = nameOf(entry);
  const thing = name ? `${noun} ${name}` : `a ${noun}`;
  return `${who} ${op} ${thing}`;
}

/** The fields an update touched, for "updated Acme Voice (name, email)". */
function touched(entry: TActivityEntry): string {
  const fields = changedFields(entry.before, entry.after).map((change) => change.field);
  return fields.length ? ` (${fields.join(', ')})` : '';
}

function account(noun: 'reseller' | 'customer'): TSentence {
  return (who, op, entry, locale) => {
    const name = nameOf(entry) ?? `a ${noun}`;
    switch (op) {
      case 'created':
        return `${who} added ${noun} ${name}`;
      case 'deleted':
        return `${who} deleted ${noun} ${name}`;
      case 'updated': {
        const summary = entry.summary ?? {};
        if (summary.reason === 'transfer') return `${who} transferred ${noun} ${name}`;
        if (summary.reason === 'ledger') return `${who} ${ledgerSentence(summary, name, locale)}`;
        if (summary.reason === 'calls') return `${who} ${callsSentence(summary, name)}`;
        // A ledger movement told without its entry (no `ledger:read`).
        if (summary.reason === 'balance') {
          return `${who} moved the balance of ${name}${summary.usage === true ? ' by calls' : ''}`;
        }
        const status = text(entry.after, 'status');
        if (status && status !== text(entry.before, 'status')) {
          const verb = status === 'suspended' ? 'suspended' : 'resumed';
          const below = summary.reason === 'status_cascade' ? ' and everything below it' : '';
          return `${who} ${verb} ${name}${below}`;
        }
        return `${who} updated ${name}${touched(entry)}`;
      }
      default:
        return unreachable(op);
    }
  };
}

/**
 * "recorded a payment of €100.50 from Nimbus", "charged Nimbus €0.012 for 3 calls" — the
 * ledger entry a balance moved by, its amount as the rest of the feed shows money
 * (`formatMoney`, as components/ui/money.tsx: the currency's symbol, every digit kept). A
 * usage entry is a charge: its amount is negative in the ledger, said as what was charged.
 */
function ledgerSentence(summary: Record<string, unknown>, name: string, locale: string): string {
  const raw = String(summary.amount);
  const currency = typeof summary.currency === 'string' ? summary.currency : null;
  const amount = (value: string) => formatMoney(value, { currency, locale });
  switch (summary.kind) {
    case 'payment':
      return `recorded a payment of ${amount(raw)} from ${name}`;
    case 'credit_note':
      return `credited ${amount(raw)} to ${name}`;
    case 'usage': {
      const calls = typeof summary.calls === 'number' ? summary.calls : null;
      const what = calls === null ? 'usage' : `${calls} call${calls === 1 ? '' : 's'}`;
      return `charged ${name} ${amount(raw.replace(/^-/, ''))} for ${what}`;
    }
    default:
      return `adjusted the balance of ${name} by ${amount(raw)}`;
  }
}

/** "recorded 3 calls of Hotel Alpine, charging nothing (2 unrated)". */
function callsSentence(summary: Record<string, unknown>, name: string): string {
  const count = (value: unknown, noun: string) => {
    const n = typeof value === 'number' ? value : 0;
    return `${n} ${noun}${n === 1 ? '' : 's'}`;
  };
  const unrated = typeof summary.unrated === 'number' ? summary.unrated : 0;
  return `recorded ${count(summary.calls, 'call')} of ${name}, charging nothing${unrated ? ` (${unrated} unrated)` : ''}`;
}

const userSentence: TSentence = (who, op, entry) => {
  const name = text(entry.after, 'email', 'name') ?? text(entry.before, 'email', 'name');
  const user = name ? `user ${name}` : 'a user';
  switch (op) {
    case 'created':
      return `${who} added ${user}`;
    case 'deleted':
      return `${who} deleted ${user}`;
    case 'updated': {
      const summary = entry.summary ?? {};
      const status = text(entry.after, 'status');
      if (status && status !== text(entry.before, 'status')) {
        return `${who} ${status === 'disabled' ? 'disabled' : 'enabled'} ${user}`;
      }
      if (summary.passwordChanged) return `${who} changed their password`;
      if (summary.mfa === 'reset') return `${who} reset MFA of ${user}`;
      if (summary.mfa === 'enabled') return `${who} turned on MFA`;
      if (summary.mfa === 'disabled') return `${who} turned off MFA`;
      if (typeof summary.mfa === 'string') return `${who} updated MFA of ${user}`;
      if (summary.sessionsRevoked) return `${who} reset the password of ${user}`;
      return `${who} updated ${user}${touched(entry)}`;
    }
    default:
      return unreachable(op);
  }
};

const cardSentence: TSentence = (who, op, entry) => {
  const name = nameOf(entry);
  const card = name ? `rate card ${name}` : 'a rate card';
  const summary = entry.summary ?? {};
  switch (op) {
    case 'created':
      return text(entry.after, 'parentId') ? `${who} derived ${card}` : `${who} created ${card}`;
    case 'deleted':
      return `${who} deleted ${card}`;
    case 'updated': {
      const event = summary.event as
        'rates_changed' | 'margin_alert' | 'revision_scheduled' | 'revision_cancelled' | undefined;
      switch (event) {
        case 'rates_changed': {
          const rows = Number(summary.rows ?? 0);
          const losing = Number(summary.losing ?? 0);
          const how = summary.cause === 'parent' ? ' (its parent changed)' : '';
          const loss = losing ? `, ${losing} losing money` : '';
          return `${who} set the rates of ${card}${how}: ${rows} row${rows === 1 ? '' : 's'}${loss}`;
        }
        case 'margin_alert': {
          const count = Number(summary.count ?? 0);
          const cured = Number(summary.cured ?? 0);
          if (count) return `${count} row${count === 1 ? '' : 's'} of ${card} started losing money`;
          if (cured) return `${cured} row${cured === 1 ? '' : 's'} of ${card} stopped losing money`;
          return `The losses of ${card} changed with its provider cards`;
        }
        case 'revision_scheduled': {
          const counts = (summary.counts ?? {}) as Record<string, number>;
          return `${who} scheduled revision ${String(summary.number)} of ${card} for ${String(summary.liveAt)}: ${counts.increased ?? 0} up, ${counts.decreased ?? 0} down, ${counts.added ?? 0} new, ${counts.removed ?? 0} removed`;
        }
        case 'revision_cancelled':
          return `${who} cancelled revision ${String(summary.number)} of ${card}`;
        case undefined:
          return `${who} updated ${card}${touched(entry)}`;
        default:
          return unreachable(event);
      }
    }
    default:
      return unreachable(op);
  }
};

const assignmentSentence: TSentence = (who, op, entry) => {
  const summary = entry.summary ?? {};
  const card = typeof summary.cardName === 'string' ? summary.cardName : 'a rate card';
  const holder = typeof summary.accountName === 'string' ? summary.accountName : 'an account';
  switch (op) {
    case 'created':
      return `${who} assigned ${card} to ${holder}`;
    case 'updated':
      return summary.reason === 'card_renamed'
        ? `${who} renamed the card ${holder} holds to ${card}`
        : `${who} assigned ${card} to ${holder}`;
    case 'deleted': {
      const why =
        summary.reason === 'replaced'
          ? ' (replaced by another card)'
          : summary.reason === 'transfer'
            ? ' (customer transferred)'
            : '';
      return `${who} removed ${card} from ${holder}${why}`;
    }
    default:
      return unreachable(op);
  }
};

/** One sentence writer per logged resource: a new resource fails to compile until it has one. */
const SENTENCES: Record<TLoggedResource, TSentence> = {
  carriers: (who, op, entry) => plain(who, op, entry, 'carrier'),
  resellers: account('reseller'),
  customers: account('customer'),
  users: userSentence,
  groups: (who, op, entry) => plain(who, op, entry, 'group'),
  tokens: (who, op, entry) => {
    const name = text(entry.after, 'name') ?? text(entry.before, 'name');
    const token = name ? `API token ${name}` : 'an API token';
    switch (op) {
      case 'created': {
        // Issued for a password: a sign-in, from this address (issue-token.ts).
        const ip = text(entry.after, 'ip');
        return `${who} issued ${token}${ip ? ` from ${ip}` : ''}`;
      }
      case 'deleted':
        return `${who} revoked ${token}`;
      case 'updated':
        return `${who} updated ${token}`;
      default:
        return unreachable(op);
    }
  },
  sessions: (who, op, entry) => {
    switch (op) {
      case 'created': {
        // Where and from which address (lib/server/auth/sessions.ts `openSession`); older
        // entries have neither.
        const host = text(entry.after, 'host');
        const ip = text(entry.after, 'ip');
        const code = entry.after?.mfa === true ? ' with a code' : '';
        return `${who} signed in${host ? ` on ${host}` : ''}${ip ? ` from ${ip}` : ''}${code}`;
      }
      case 'deleted':
        return entry.summary?.hostRemoved === true
          ? `${who} ended a session on a portal hostname no longer in use`
          : entry.summary?.hostClaimed === true
            ? `${who} ended a session on a hostname a portal now holds`
            : `${who} signed out`;
      case 'updated':
        return `${who} renewed a session`;
      default:
        return unreachable(op);
    }
  },
  impersonation: (who, op, entry) => {
    const target = text(entry.after, 'targetEmail') ?? text(entry.before, 'targetEmail');
    const whom = target ?? 'a user';
    switch (op) {
      case 'created':
        return `${who} started viewing as ${whom}`;
      case 'deleted':
        return `${who} stopped viewing as ${whom}`;
      case 'updated':
        return `${who} extended viewing as ${whom}`;
      default:
        return unreachable(op);
    }
  },
  cards: cardSentence,
  assignments: assignmentSentence,
  brands: (who, op, entry) => {
    const name = text(entry.after, 'displayName') ?? text(entry.before, 'displayName');
    const brand = name ? `the brand ${name}` : 'a brand';
    switch (op) {
      case 'created':
        return `${who} set ${brand}`;
      case 'deleted':
        return `${who} removed ${brand}`;
      case 'updated':
        return `${who} updated ${brand}${touched(entry)}`;
      default:
        return unreachable(op);
    }
  },
  statements: (who, _op, entry) => {
    const number = entry.after?.number ?? entry.before?.number;
    const period = text(entry.after, 'period') ?? text(entry.before, 'period');
    const account = text(entry.after, 'accountName') ?? text(entry.before, 'accountName');
    const what = typeof number === 'number' ? `statement no. ${number}` : 'a statement';
    return `${who} issued ${what}${period ? ` for ${period}` : ''}${account ? ` to ${account}` : ''}`;
  },
};

/** Who did it: a person (or, to viewers who may not read people, the account). */
export function actorName(entry: Pick<TActivityEntry, 'actor'>): string {
  return entry.actor.kind === 'user' ? entry.actor.name || entry.actor.email : entry.actor.name;
}

function isLogged(resource: string): resource is TLoggedResource {
  return (LOGGED_RESOURCES as readonly string[]).includes(resource);
}

/**
 * The sentence for one entry, with "(viewing as, by …)" when someone acted through view-as;
 * amounts in `locale` (the viewer's; English until the client knows it).
 */
export function activitySentence(entry: TActivityEntry, locale = 'en'): string {
  const who = actorName(entry);
  const by = entry.impersonator
    ? ` (viewing as, by ${entry.impersonator.kind === 'user' ? entry.impersonator.name || entry.impersonator.email : entry.impersonator.name})`
    : '';
  if (!isLogged(entry.resource)) return `${who}${by} changed ${entry.resource}`;
  if (entry.detail === 'withheld') {
    return `${who}${by} ${entry.op} a ${NOUN[entry.resource]} (details hidden)`;
  }
  return SENTENCES[entry.resource](who + by, entry.op, entry, locale);
}

/** Fields that do not describe the thing itself: never shown as changed. */
const BOOKKEEPING = new Set(['version', 'updatedAt', 'createdAt', 'id']);

export interface TFieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** The fields whose value differs between before and after (an audit diff), in order. */
export function changedFields(before: TBody | null, after: TBody | null): TFieldChange[] {
  if (!before || !after) return [];
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields
    .filter((field) => !BOOKKEEPING.has(field))
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => ({ field, before: before[field], after: after[field] }));
}

/**
 * A list field's change (a group's grants, a brand's hostnames) as what was added and what
 * was taken away, each in its own order — null when either side is not a list of text.
 * The two whole lists, one struck through, make a reader hunt for the one grant that moved.
 */
export function listChange(change: TFieldChange): { added: string[]; removed: string[] } | null {
  const texts = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!texts(change.before) || !texts(change.after)) return null;
  const before = new Set(change.before);
  const after = new Set(change.after);
  return {
    added: change.after.filter((item) => !before.has(item)),
    removed: change.before.filter((item) => !after.has(item)),
  };
}

/** An account's fields that hold money in its currency. */
const MONEY_FIELDS = new Set(['balance', 'creditLimit', 'warningThreshold', 'available']);

/** Whether a changed field is an account's money (shown whole, never broken). */
export function isMoneyField(field: string): boolean {
  return MONEY_FIELDS.has(field);
}

/**
 * One side of a field's change as the diff shows it: an account's money in its currency
 * (the side's own, else the other's) and the viewer's locale (€500.00, not 500.000000),
 * "(none)" for no value, text as it is, anything else as JSON.
 */
export function fieldValueText(
  change: TFieldChange,
  side: 'before' | 'after',
  body: { before: TBody | null; after: TBody | null },
  locale = 'en',
): string {
  const currency = (body[side]?.currency ?? body.after?.currency ?? body.before?.currency) as
    string | undefined;
  return valueText(change.field, change[side], currency, locale);
}

/**
 * A field's value as a person reads it (the audit diff, an edit's conflict): an account's
 * money in `currency`, so 500 and 500.000000 read alike; "(none)" for no value; text as
 * it is (a name "007" stays "007"); anything else as JSON.
 */
export function valueText(
  field: string,
  value: unknown,
  currency: string | null | undefined,
  locale = 'en',
): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (MONEY_FIELDS.has(field) && typeof value === 'string' && currency) {
    return formatMoney(value, { currency, locale });
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
