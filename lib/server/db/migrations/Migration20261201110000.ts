import { Migration } from '@mikro-orm/migrations';

/**
 * MFA for staff (TOTP): the user's secret (encrypted, see lib/server/auth/mfa.ts), a
 * pending one while enrolling, when it was turned on, the recovery codes (keyed hashes,
 * each removed when used) and the last time step accepted (no code is accepted twice);
 * and the group setting that requires it. By hand: the user's change-log guard now also
 * lets `mfa_last_step` change alone, like `last_login_at` — a sign-in with a code is not
 * an edit of the user.
 */
export class Migration20261201110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "app_user" add column "mfa_secret" text null, add column "mfa_pending_secret" text null, add column "mfa_enabled_at" timestamptz null, add column "mfa_recovery_codes" text[] null, add column "mfa_last_step" int null;`,
    );
    this.addSql(
      `alter table "user_group" add column "require_mfa" boolean not null default false;`,
    );
    this.addSql(`drop trigger "app_user_change_log_required" on "app_user";`);
    this.addSql(
      `create constraint trigger "app_user_change_log_required" after insert or update or delete on "app_user" deferrable initially deferred for each row execute function change_log_required('last_login_at', 'mfa_last_step');`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger "app_user_change_log_required" on "app_user";`);
    this.addSql(
      `create constraint trigger "app_user_change_log_required" after insert or update or delete on "app_user" deferrable initially deferred for each row execute function change_log_required('last_login_at');`,
    );
    this.addSql(`alter table "user_group" drop column "require_mfa";`);
    this.addSql(
      `alter table "app_user" drop column "mfa_secret", drop column "mfa_pending_secret", drop column "mfa_enabled_at", drop column "mfa_recovery_codes", drop column "mfa_last_step";`,
    );
  }
}
