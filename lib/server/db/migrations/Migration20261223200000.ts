import { Migration } from '@mikro-orm/migrations';

/**
 * The grant a notice's subject is read with (`notification.read_grant`): its mail may wait
 * for hours (retries) or for ever (delivery off), and is sent only to a person who may
 * still read it then (outbox-worker.ts). Null for notices written before: then only the
 * sign-in rule is asked again.
 */
export class Migration20261223200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "notification" add column "read_grant" varchar(60) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "notification" drop column "read_grant";`);
  }
}
