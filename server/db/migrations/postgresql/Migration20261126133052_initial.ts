import { Migration } from '@mikro-orm/migrations';

export class Migration20261126133052_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "organizations" ("id" varchar(32) not null, "name" varchar(200) not null, "created_at" timestamptz not null, constraint "organizations_pkey" primary key ("id"));`);

    this.addSql(`create table "flows" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "description" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "flows_pkey" primary key ("id"));`);
    this.addSql(`create index "flows_organization_id_name_id_index" on "flows" ("organization_id", "name", "id");`);

    this.addSql(`create table "audit_events" ("id" varchar(32) not null, "organization_id" varchar(32) null, "actor_user_id" varchar(32) null, "actor_api_key_id" varchar(32) null, "action" varchar(100) not null, "target_id" varchar(32) null, "changes" jsonb null, "created_at" timestamptz not null, constraint "audit_events_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_events_organization_id_created_at_id_index" on "audit_events" ("organization_id", "created_at", "id");`);

    this.addSql(`create table "prompts" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "description" text null, "template" text not null, "model" varchar(200) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "prompts_pkey" primary key ("id"));`);
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

    this.addSql(`create table "api_keys" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "name" varchar(200) not null, "prefix" varchar(16) not null, "access" text check ("access" in ('ORGANIZATION', 'SPECIFIC')) not null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "last_used_at" timestamptz null, "created_by_id" varchar(32) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "api_keys_pkey" primary key ("id"));`);
    this.addSql(`create index "api_keys_organization_id_name_id_index" on "api_keys" ("organization_id", "name", "id");`);
    this.addSql(`create index "api_keys_organization_id_access_index" on "api_keys" ("organization_id", "access");`);

    this.addSql(`create table "runs" ("id" varchar(32) not null, "organization_id" varchar(32) not null, "kind" text check ("kind" in ('PROMPT', 'FLOW')) not null, "status" text check ("status" in ('RUNNING', 'SUCCEEDED', 'FAILED')) not null, "prompt_id" varchar(32) null, "flow_id" varchar(32) null, "api_key_id" varchar(32) null, "user_id" varchar(32) null, "inputs" jsonb not null, "result" text null, "error" text null, "end_user_id" varchar(200) null, "started_at" timestamptz not null, "finished_at" timestamptz null, "duration_ms" int null, "deadline_at" timestamptz not null, "prompt_tokens" int not null default 0, "completion_tokens" int not null default 0, "rating" int null, constraint "runs_pkey" primary key ("id"));`);
    this.addSql(`create index "runs_organization_id_started_at_id_index" on "runs" ("organization_id", "started_at", "id");`);
    this.addSql(`create index "runs_api_key_id_started_at_index" on "runs" ("api_key_id", "started_at");`);
    this.addSql(`create index "runs_prompt_id_started_at_index" on "runs" ("prompt_id", "started_at");`);
    this.addSql(`create index "runs_flow_id_started_at_index" on "runs" ("flow_id", "started_at");`);
    this.addSql(`create index "runs_status_deadline_at_index" on "runs" ("status", "deadline_at");`);

    this.addSql(`create table "run_steps" ("id" varchar(32) not null, "run_id" varchar(32) not null, "position" int not null, "prompt_id" varchar(32) not null, "status" text check ("status" in ('RUNNING', 'SUCCEEDED', 'FAILED')) not null, "result" text null, "error" text null, "duration_ms" int null, "prompt_tokens" int not null default 0, "completion_tokens" int not null default 0, constraint "run_steps_pkey" primary key ("id"));`);
    this.addSql(`create index "run_steps_prompt_id_index" on "run_steps" ("prompt_id");`);
    this.addSql(`alter table "run_steps" add constraint "run_steps_run_id_position_unique" unique ("run_id", "position");`);

    this.addSql(`create table "api_key_secrets" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "secret_hash" varchar(64) not null, "expires_at" timestamptz null, "created_at" timestamptz not null, constraint "api_key_secrets_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_secrets_api_key_id_index" on "api_key_secrets" ("api_key_id");`);
    this.addSql(`alter table "api_key_secrets" add constraint "api_key_secrets_secret_hash_unique" unique ("secret_hash");`);

    this.addSql(`create table "api_key_prompt_grants" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "prompt_id" varchar(32) not null, constraint "api_key_prompt_grants_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_prompt_grants_prompt_id_index" on "api_key_prompt_grants" ("prompt_id");`);
    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_api_key_id_prompt_id_unique" unique ("api_key_id", "prompt_id");`);

    this.addSql(`create table "api_key_flow_grants" ("id" varchar(32) not null, "api_key_id" varchar(32) not null, "flow_id" varchar(32) not null, constraint "api_key_flow_grants_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_flow_grants_flow_id_index" on "api_key_flow_grants" ("flow_id");`);
    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_api_key_id_flow_id_unique" unique ("api_key_id", "flow_id");`);

    this.addSql(`alter table "flows" add constraint "flows_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "audit_events" add constraint "audit_events_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "prompts" add constraint "prompts_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "flow_steps" add constraint "flow_steps_flow_id_foreign" foreign key ("flow_id") references "flows" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "flow_steps" add constraint "flow_steps_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete no action;`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "memberships" add constraint "memberships_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_keys" add constraint "api_keys_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "runs" add constraint "runs_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "runs" add constraint "runs_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "runs" add constraint "runs_flow_id_foreign" foreign key ("flow_id") references "flows" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "runs" add constraint "runs_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "runs" add constraint "runs_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "run_steps" add constraint "run_steps_run_id_foreign" foreign key ("run_id") references "runs" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "run_steps" add constraint "run_steps_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade;`);

    this.addSql(`alter table "api_key_secrets" add constraint "api_key_secrets_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_key_prompt_grants" add constraint "api_key_prompt_grants_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "api_key_flow_grants" add constraint "api_key_flow_grants_flow_id_foreign" foreign key ("flow_id") references "flows" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "flows" drop constraint "flows_organization_id_foreign";`);

    this.addSql(`alter table "audit_events" drop constraint "audit_events_organization_id_foreign";`);

    this.addSql(`alter table "prompts" drop constraint "prompts_organization_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_organization_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_organization_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_organization_id_foreign";`);

    this.addSql(`alter table "flow_steps" drop constraint "flow_steps_flow_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_flow_id_foreign";`);

    this.addSql(`alter table "api_key_flow_grants" drop constraint "api_key_flow_grants_flow_id_foreign";`);

    this.addSql(`alter table "flow_steps" drop constraint "flow_steps_prompt_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_prompt_id_foreign";`);

    this.addSql(`alter table "run_steps" drop constraint "run_steps_prompt_id_foreign";`);

    this.addSql(`alter table "api_key_prompt_grants" drop constraint "api_key_prompt_grants_prompt_id_foreign";`);

    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_user_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_created_by_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_user_id_foreign";`);

    this.addSql(`alter table "runs" drop constraint "runs_api_key_id_foreign";`);

    this.addSql(`alter table "api_key_secrets" drop constraint "api_key_secrets_api_key_id_foreign";`);

    this.addSql(`alter table "api_key_prompt_grants" drop constraint "api_key_prompt_grants_api_key_id_foreign";`);

    this.addSql(`alter table "api_key_flow_grants" drop constraint "api_key_flow_grants_api_key_id_foreign";`);

    this.addSql(`alter table "run_steps" drop constraint "run_steps_run_id_foreign";`);

    this.addSql(`drop table if exists "organizations" cascade;`);

    this.addSql(`drop table if exists "flows" cascade;`);

    this.addSql(`drop table if exists "audit_events" cascade;`);

    this.addSql(`drop table if exists "prompts" cascade;`);

    this.addSql(`drop table if exists "flow_steps" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "memberships" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);

    this.addSql(`drop table if exists "runs" cascade;`);

    this.addSql(`drop table if exists "run_steps" cascade;`);

    this.addSql(`drop table if exists "api_key_secrets" cascade;`);

    this.addSql(`drop table if exists "api_key_prompt_grants" cascade;`);

    this.addSql(`drop table if exists "api_key_flow_grants" cascade;`);
  }

}
