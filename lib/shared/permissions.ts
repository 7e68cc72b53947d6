/**
 * The one grant catalog. Every grant is `resource:action`; nothing is implied by
 * anything else (DESIGN §1: one grant per endpoint and action).
 */
export const RESOURCES = [
  'resellers',
  'customers',
  'users',
  'groups',
  'cards',
  'rates',
  'assignments',
  'audit',
] as const;
export const ACTIONS = ['read', 'create', 'update', 'delete'] as const;

export type TResource = (typeof RESOURCES)[number];
export type TAction = (typeof ACTIONS)[number];
/**
 * Grants outside the resource × action matrix, each with what it allows (the group
 * editor lists them under the matrix). The money grants (issue 17) are separate from
 * `customers:update`: recording a payment moves money, not the account's settings;
 * `calls:authorize` (issue 18) opens `POST /authorize` and nothing else, so a switch's
 * token reads no account, card or balance through any other route.
 */
export const EXTRA_GRANTS = {
  'impersonation:start': 'view as a user of a lower account',
  'payments:create': 'record a payment for an account below',
  'ledger:read': 'read balances and ledgers in scope',
  // Issue 18: what a switch's token holds (often alone) to ask whether a call may go.
  'calls:authorize': 'authorize calls for a switch',
  // Usage (issue 18): posting call records moves money at every level of the chain.
  'usage:create': 'post call records to be rated',
  'usage:read': 'read calls and traffic in scope',
  // Issue 19: an account's brand (and its hostnames) and its children's; not a matrix
  // resource, since a brand has no create or delete apart from setting it.
  'brand:read': 'read its own and lower accounts’ brands',
  'brand:update': 'set or remove its own and lower accounts’ brands',
  // Issue 19: monthly statements from the ledger. Read on its own account and below;
  // issued only for accounts below (in the parent's name), never changed afterwards.
  'statements:read': 'read its own and lower accounts’ statements',
  'statements:create': 'issue statements for accounts below',
  // Corrections: a credit note or a signed adjustment of a balance below, with its reason
  // (a payment typed wrong, a disputed call). Apart from `payments:create`: a clerk who
  // books what came in need not be able to debit anyone.
  'adjustments:create': 'post credit notes and adjustments for accounts below',
} as const;
export type TExtraGrant = keyof typeof EXTRA_GRANTS;
export type TGrant = `${TResource}:${TAction}` | TExtraGrant;

export const ALL_GRANTS: readonly TGrant[] = [
  ...RESOURCES.flatMap((resource) => ACTIONS.map((action) => `${resource}:${action}` as TGrant)),
  ...(Object.keys(EXTRA_GRANTS) as TExtraGrant[]),
];

const GRANT_SET: ReadonlySet<string> = new Set(ALL_GRANTS);

export function isGrant(value: string): value is TGrant {
  return GRANT_SET.has(value);
}

/**
 * The built-in "Default Reseller" template (DESIGN §1). Never `impersonation:start`;
 * the reseller's scope (its own subtree) keeps it away from the carrier's accounts.
 */
export const DEFAULT_RESELLER_GRANTS: readonly TGrant[] = [
  'resellers:read',
  'resellers:create',
  'resellers:update',
  'customers:read',
  'customers:create',
  'customers:update',
  'customers:delete',
  'users:read',
  'users:create',
  'users:update',
  'groups:read',
  'groups:create',
  'groups:update',
  'cards:read',
  'cards:create',
  'cards:update',
  'cards:delete',
  'rates:read',
  'rates:update',
  'assignments:read',
  'assignments:create',
  'assignments:delete',
  'audit:read',
  // A reseller collects from its own customers and reads their books (its own side's).
  'payments:create',
  'ledger:read',
  // Its customers' calls and its own traffic; the calls themselves come from the
  // carrier's switch, never from a reseller's panel.
  'usage:read',
  // Its own portal's name, colours and hostnames, and its customers'.
  'brand:read',
  'brand:update',
  // Its customers' monthly statements, in its own name and brand, and its own.
  'statements:read',
  'statements:create',
  // It corrects its own customers' books (a wrong payment, a disputed call).
  'adjustments:create',
];

/**
 * The built-in "Default Customer" template (issue 19, customer self-care): a customer's
 * people read their own account's money, calls, statements and rate card (the card assigned to it,
 * which they see as its holder: its sell prices, never the card above it) and manage
 * their own colleagues with this same group. Nothing that makes or reaches an account,
 * a card or a grant beyond it: no `cards:create`, no `customers:*` or `resellers:*`, no
 * `groups:create` (a customer lives with the groups its reseller gives it), never
 * `impersonation:start`. Every grant is in the Default Reseller template, so a reseller
 * may make it for its customers under the subset rule.
 */
export const DEFAULT_CUSTOMER_GRANTS: readonly TGrant[] = [
  'users:read',
  'users:create',
  'users:update',
  'groups:read',
  'cards:read',
  'rates:read',
  'ledger:read',
  'usage:read',
  // Its own monthly statements, issued by the side above it.
  'statements:read',
];

export const GROUP_TEMPLATES = {
  'default-reseller': { name: 'Default Reseller', grants: DEFAULT_RESELLER_GRANTS },
  'default-customer': { name: 'Default Customer', grants: DEFAULT_CUSTOMER_GRANTS },
} as const;
export type TGroupTemplate = keyof typeof GROUP_TEMPLATES;
export const GROUP_TEMPLATE_KEYS = Object.keys(GROUP_TEMPLATES) as [
  TGroupTemplate,
  ...TGroupTemplate[],
];
