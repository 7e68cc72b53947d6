import { Migration } from '@mikro-orm/migrations';

/**
 * A view-as belongs to the credential that started it (the browser session or the API
 * token), not to the person: bound to the person, a support user's every other session
 * and token — a script's token exporting customers, say — answered as the viewed user
 * for as long as one tab viewed as someone. `session_id` / `token_id` name the
 * credential; the actor's query (lib/server/authz/actor.ts) joins a view only to it.
 * Views open at the upgrade name no credential, so they are ended here rather than left
 * open and applying to nothing.
 */
export class Migration20261216200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "impersonation"
      add column "session_id" uuid null,
      add column "token_id" uuid null,
      add constraint "impersonation_one_credential" check ("session_id" is null or "token_id" is null);`);
    this.addSql(`update "impersonation" set "ended_at" = now() where "ended_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "impersonation"
      drop constraint if exists "impersonation_one_credential",
      drop column if exists "session_id",
      drop column if exists "token_id";`);
  }
}
