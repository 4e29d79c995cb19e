import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221512_key_limits extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "api_key_monthly_usage" ("api_key_id" varchar(32) not null, "month" varchar(7) not null, "runs" int not null default 0, "tokens" bigint not null default 0, constraint "api_key_monthly_usage_pkey" primary key ("api_key_id", "month"));`);

    this.addSql(`alter table "api_key_monthly_usage" add constraint "api_key_monthly_usage_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_keys" add column "rate_limit_per_minute" int null, add column "monthly_run_quota" int null, add column "monthly_token_quota" bigint null, add column "allowed_cidrs" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_key_monthly_usage" cascade;`);

    this.addSql(`alter table "api_keys" drop column "rate_limit_per_minute", drop column "monthly_run_quota", drop column "monthly_token_quota", drop column "allowed_cidrs";`);
  }

}
