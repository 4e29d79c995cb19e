import { Migration } from '@mikro-orm/migrations';

export class Migration20261126132518_api_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "api_keys" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "prefix" varchar(16) not null, "access" text check ("access" in ('ORGANIZATION', 'SPECIFIC')) not null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "last_used_at" timestamptz null, "created_by_id" varchar(32) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "api_keys_organization_id_name_id_index" on "api_keys" ("organization_id", "name", "id");`);
    this.addSql(`create index "api_keys_organization_id_access_index" on "api_keys" ("organization_id", "access");`);

    this.addSql(`create table "api_key_secrets" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "secret_hash" varchar(64) not null, "expires_at" timestamptz null, "created_at" timestamptz not null, constraint "api_key_secrets_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_secrets_api_key_id_index" on "api_key_secrets" ("api_key_id");`);
    this.addSql(`alter table "api_key_secrets" add constraint "api_key_secrets_secret_hash_unique" unique ("secret_hash");`);

    this.addSql(`create table "api_key_prompt_grants" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "prompt_id" varchar(32) not null, constraint "api_key_prompt_grants_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_prompt_grants_prompt_id_index" on "api_key_prompt_grants" ("prompt_id");`);
    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_api_key_id_prompt_id_unique" unique ("api_key_id", "prompt_id");`);

    this.addSql(`create table "api_key_flow_grants" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "flow_id" varchar(32) not null, constraint "api_key_flow_grants_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_flow_grants_flow_id_index" on "api_key_flow_grants" ("flow_id");`);
    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_api_key_id_flow_id_unique" unique ("api_key_id", "flow_id");`);

    this.addSql(`alter table "api_keys" add constraint "api_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "api_key_secrets" add constraint "api_key_secrets_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_flow_id_foreign" foreign key ("flow_id") references "flows" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_key_secrets" drop constraint "api_key_secrets_api_key_id_foreign";`);

    this.addSql(`alter table "api_key_prompt_grants" drop constraint "api_key_prompt_grants_api_key_id_foreign";`);

    this.addSql(`alter table "api_key_flow_grants" drop constraint "api_key_flow_grants_api_key_id_foreign";`);

    this.addSql(`drop table if exists "api_keys" cascade;`);

    this.addSql(`drop table if exists "api_key_secrets" cascade;`);

    this.addSql(`drop table if exists "api_key_prompt_grants" cascade;`);

    this.addSql(`drop table if exists "api_key_flow_grants" cascade;`);
  }

}
