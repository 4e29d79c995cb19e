import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221456_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhooks" ("id" varchar(32) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "organization_id" varchar(32) not null, "url" varchar(2048) not null, "events" jsonb not null, "enabled" boolean not null, "secret_encrypted" varchar(200) not null, constraint "webhooks_pkey" primary key ("id"));`);
    this.addSql(`create index "webhooks_organization_id_index" on "webhooks" ("organization_id");`);

    this.addSql(`create table "webhook_deliveries" ("id" varchar(32) not null, "created_at" timestamptz not null, "webhook_id" varchar(32) not null, "event" text check ("event" in ('API_KEY_EXPIRING', 'API_KEY_EXPIRED', 'API_KEY_REVOKED', 'API_KEY_ROTATED', 'API_KEY_PERMISSIONS_UPDATED', 'API_KEY_QUOTA_WARNING', 'ACCESS_DENIED', 'PING')) not null, "payload" text not null, "status" text check ("status" in ('PENDING', 'DELIVERED', 'FAILED')) not null, "attempts" int not null, "response_status" int null, "response_excerpt" varchar(300) null, "last_attempt_at" timestamptz null, "next_attempt_at" timestamptz null, "dedupe_key" varchar(120) null, constraint "webhook_deliveries_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_deliveries_status_next_attempt_at_index" on "webhook_deliveries" ("status", "next_attempt_at");`);
    this.addSql(`create index "webhook_deliveries_webhook_id_created_at_id_index" on "webhook_deliveries" ("webhook_id", "created_at", "id");`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_webhook_id_dedupe_key_unique" unique ("webhook_id", "dedupe_key");`);

    this.addSql(`alter table "webhooks" add constraint "webhooks_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_webhook_id_foreign" foreign key ("webhook_id") references "webhooks" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint "webhook_deliveries_webhook_id_foreign";`);

    this.addSql(`drop table if exists "webhooks" cascade;`);

    this.addSql(`drop table if exists "webhook_deliveries" cascade;`);
  }

}
