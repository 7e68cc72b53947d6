import type { TGrant } from './permissions';

/**
 * Who the UI is drawn for: the grants of the signed-in person (or of the user viewed
 * as) and whether this is a view-as. The server's actor and the `/me` DTO both fit.
 */
export interface TUiActor {
  grants: readonly string[];
  /** Set while viewing as someone (absent or null otherwise). */
  impersonation?: object | null;
}

export interface TCardAbilities {
  create: boolean;
  update: boolean;
  delete: boolean;
  editRates: boolean;
  readRates: boolean;
  assign: boolean;
  readAssignments: boolean;
  unassign: boolean;
}

/** What the panel offers; every field is a grant test made here and nowhere else. */
export interface TUiAbilities {
  /** The sections in the navigation (the overview is always there). */
  sections: {
    resellers: boolean;
    customers: boolean;
    users: boolean;
    groups: boolean;
    cards: boolean;
    trace: boolean;
    audit: boolean;
  };
  dashboard: { activity: boolean };
  resellers: { create: boolean; edit: boolean; delete: boolean };
  customers: { create: boolean; edit: boolean; delete: boolean };
  users: {
    create: boolean;
    update: boolean;
    delete: boolean;
    impersonate: boolean;
    explain: boolean;
  };
  groups: { create: boolean; update: boolean; delete: boolean; explain: boolean };
  cards: TCardAbilities;
  /**
   * An account's balance and ledger (read), a payment recorded for one below (pay), a
   * credit note or adjustment posted for one below (adjust).
   */
  ledger: { read: boolean; pay: boolean; adjust: boolean };
  /**
   * Calls and traffic below the account (issue 18): the overview's traffic dashboard, and
   * unrated calls rated again once their card is fixed (rerate).
   */
  usage: { read: boolean; rerate: boolean };
  /** An account's monthly statements (issue 19): listed and downloaded, issued for one below. */
  statements: { read: boolean; create: boolean };
  /** An account's brand (issue 19): seen, and set or removed (its own side's and below). */
  brand: { read: boolean; update: boolean };
}

/**
 * What a person may do in the UI, derived from its grants in one place. A view-as is
 * read-only (DESIGN §1 "Impersonation"): every write is off while viewing as someone,
 * reads follow the viewed user's grants. This only decides what is shown; the server
 * checks every request again.
 */
export function uiAbilities(actor: TUiActor): TUiAbilities {
  const held = new Set(actor.grants);
  const has = (grant: TGrant) => held.has(grant);
  const writes = !actor.impersonation;
  const write = (grant: TGrant) => writes && has(grant);
  // Explaining a user's access shows its group's grants: both reads are needed.
  const explain = has('users:read') && has('groups:read');
  return {
    sections: {
      resellers: has('resellers:read'),
      customers: has('customers:read'),
      users: has('users:read'),
      // A group creator without read still needs the page to create one.
      groups: has('groups:read') || has('groups:create'),
      cards: has('cards:read'),
      trace: has('rates:read'),
      audit: has('audit:read'),
    },
    dashboard: { activity: has('audit:read') },
    resellers: {
      create: write('resellers:create'),
      edit: write('resellers:update'),
      delete: write('resellers:delete'),
    },
    customers: {
      create: write('customers:create'),
      edit: write('customers:update'),
      delete: write('customers:delete'),
    },
    users: {
      create: write('users:create'),
      update: write('users:update'),
      delete: write('users:delete'),
      impersonate: write('impersonation:start'),
      explain,
    },
    groups: {
      create: write('groups:create'),
      update: write('groups:update'),
      delete: write('groups:delete'),
      explain,
    },
    cards: {
      create: write('cards:create'),
      update: write('cards:update'),
      delete: write('cards:delete'),
      editRates: write('rates:update'),
      readRates: has('rates:read'),
      assign: write('assignments:create'),
      readAssignments: has('assignments:read'),
      unassign: write('assignments:delete'),
    },
    ledger: {
      read: has('ledger:read'),
      pay: write('payments:create'),
      adjust: write('adjustments:create'),
    },
    usage: { read: has('usage:read'), rerate: write('usage:create') },
    statements: { read: has('statements:read'), create: write('statements:create') },
    brand: { read: has('brand:read'), update: write('brand:update') },
  };
}
