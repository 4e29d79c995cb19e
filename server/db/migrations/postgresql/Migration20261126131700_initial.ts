import { Migration } from '@mikro-orm/migrations';

export class Migration20261126131700_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "organizations" ("id" varchar(32) not null, "name" varchar(200) not null, "created_at" timestamptz not null, constraint "organizations_pkey" primary key ("id"));`);

    this.addSql(`create table "flows" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "description" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "flows_pkey" primary key ("id"));`);
    this.addSql(`create index "flows_organization_id_name_id_index" on "flows" ("organization_id", "name", "id");`);

    this.addSql(`create table "audit_events" ("id" varchar(32) not null, "organization_id" varchar(32) null, "actor_user_id" varchar(32) null, "actor_api_key_id" varchar(32) null, "action" varchar(100) not null, "target_id" varchar(32) null, "changes" jsonb null, "created_at" timestamptz not null, constraint "audit_events_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_events_organization_id_created_at_id_index" on "audit_events" ("organization_id", "created_at", "id");`);

    this.addSql(`create table "prompts" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "description" text null, "template" text not null, "model" varchar(200) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "prompts_pkey" primary key ("id"));`);
    this.addSql(`create index "prompts_organization_id_name_id_index" on "prompts" ("organization_id", "name", "id");`);

    this.addSql(`create table "flow_steps" ("id" varchar(32) not null, "flow_id" varchar(32) not null, "position" int not null, "prompt_id" varchar(32) not null, constraint "flow_steps_pkey" primary key ("id"));`);
    this.addSql(`create index "flow_steps_prompt_id_index" on "flow_steps" ("prompt_id");`);
    this.addSql(`alter table "flow_steps" add constraint "flow_steps_flow_id_position_unique" unique ("flow_id", "position");`);

    this.addSql(`create table "users" ("id" varchar(32) not null, "email" varchar(320) not null, "name" varchar(200) not null, "password_hash" varchar(255) not null, "created_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(`create table "sessions" ("id" varchar(32) not null, "user_id" varchar(32) not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "memberships" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "user_id" varchar(32) not null, "role" text check ("role" in ('OWNER', 'ADMIN', 'MEMBER')) not null, "created_at" timestamptz not null, constraint "memberships_pkey" primary key ("id"));`);
    this.addSql(`create index "memberships_user_id_index" on "memberships" ("user_id");`);
    this.addSql(`alter table "memberships" add constraint "memberships_organization_id_user_id_unique" unique ("organization_id", "user_id");`);

    this.addSql(`alter table "flows" add constraint "flows_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "audit_events" add constraint "audit_events_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "prompts" add constraint "prompts_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "flow_steps" add constraint "flow_steps_flow_id_foreign" foreign key ("flow_id") references "flows" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "flow_steps" add constraint "flow_steps_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete no action;`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "memberships" add constraint "memberships_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "flows" drop constraint "flows_organization_id_foreign";`);

    this.addSql(`alter table "audit_events" drop constraint "audit_events_organization_id_foreign";`);

    this.addSql(`alter table "prompts" drop constraint "prompts_organization_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_organization_id_foreign";`);

    this.addSql(`alter table "flow_steps" drop constraint "flow_steps_flow_id_foreign";`);

    this.addSql(`alter table "flow_steps" drop constraint "flow_steps_prompt_id_foreign";`);

    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_user_id_foreign";`);

    this.addSql(`drop table if exists "organizations" cascade;`);

    this.addSql(`drop table if exists "flows" cascade;`);

    this.addSql(`drop table if exists "audit_events" cascade;`);

    this.addSql(`drop table if exists "prompts" cascade;`);

    this.addSql(`drop table if exists "flow_steps" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "memberships" cascade;`);
  }

}
