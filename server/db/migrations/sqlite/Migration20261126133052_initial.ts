import { Migration } from '@mikro-orm/migrations';

export class Migration20261126133052_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`organizations\` (\`id\` text not null, \`name\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);

    this.addSql(`create table \`flows\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`description\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`deleted_at\` datetime null, constraint \`flows_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`flows_organization_id_index\` on \`flows\` (\`organization_id\`);`);
    this.addSql(`create index \`flows_organization_id_name_id_index\` on \`flows\` (\`organization_id\`, \`name\`, \`id\`);`);

    this.addSql(`create table \`audit_events\` (\`id\` text not null, \`organization_id\` text null, \`actor_user_id\` text null, \`actor_api_key_id\` text null, \`action\` text not null, \`target_id\` text null, \`changes\` json null, \`created_at\` datetime not null, constraint \`audit_events_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`audit_events_organization_id_index\` on \`audit_events\` (\`organization_id\`);`);
    this.addSql(`create index \`audit_events_organization_id_created_at_id_index\` on \`audit_events\` (\`organization_id\`, \`created_at\`, \`id\`);`);

    this.addSql(`create table \`prompts\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`description\` text null, \`template\` text not null, \`model\` text not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`deleted_at\` datetime null, constraint \`prompts_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`prompts_organization_id_index\` on \`prompts\` (\`organization_id\`);`);
    this.addSql(`create index \`prompts_organization_id_name_id_index\` on \`prompts\` (\`organization_id\`, \`name\`, \`id\`);`);

    this.addSql(`create table \`flow_steps\` (\`id\` text not null, \`flow_id\` text not null, \`position\` integer not null, \`prompt_id\` text not null, constraint \`flow_steps_flow_id_foreign\` foreign key(\`flow_id\`) references \`flows\`(\`id\`) on delete cascade on update cascade, constraint \`flow_steps_prompt_id_foreign\` foreign key(\`prompt_id\`) references \`prompts\`(\`id\`) on delete no action on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`flow_steps_flow_id_index\` on \`flow_steps\` (\`flow_id\`);`);
    this.addSql(`create index \`flow_steps_prompt_id_index\` on \`flow_steps\` (\`prompt_id\`);`);
    this.addSql(`create unique index \`flow_steps_flow_id_position_unique\` on \`flow_steps\` (\`flow_id\`, \`position\`);`);

    this.addSql(`create table \`users\` (\`id\` text not null, \`email\` text not null, \`name\` text not null, \`password_hash\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`users_email_unique\` on \`users\` (\`email\`);`);

    this.addSql(`create table \`sessions\` (\`id\` text not null, \`user_id\` text not null, \`token_hash\` text not null, \`created_at\` datetime not null, \`expires_at\` datetime not null, constraint \`sessions_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`sessions_user_id_index\` on \`sessions\` (\`user_id\`);`);
    this.addSql(`create unique index \`sessions_token_hash_unique\` on \`sessions\` (\`token_hash\`);`);

    this.addSql(`create table \`memberships\` (\`id\` text not null, \`organization_id\` text not null, \`user_id\` text not null, \`role\` text check (\`role\` in ('OWNER', 'ADMIN', 'MEMBER')) not null, \`created_at\` datetime not null, constraint \`memberships_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, constraint \`memberships_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`memberships_organization_id_index\` on \`memberships\` (\`organization_id\`);`);
    this.addSql(`create index \`memberships_user_id_index\` on \`memberships\` (\`user_id\`);`);
    this.addSql(`create unique index \`memberships_organization_id_user_id_unique\` on \`memberships\` (\`organization_id\`, \`user_id\`);`);

    this.addSql(`create table \`api_keys\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`prefix\` text not null, \`access\` text check (\`access\` in ('ORGANIZATION', 'SPECIFIC')) not null, \`expires_at\` datetime null, \`revoked_at\` datetime null, \`last_used_at\` datetime null, \`created_by_id\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`api_keys_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, constraint \`api_keys_created_by_id_foreign\` foreign key(\`created_by_id\`) references \`users\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_keys_organization_id_index\` on \`api_keys\` (\`organization_id\`);`);
    this.addSql(`create index \`api_keys_created_by_id_index\` on \`api_keys\` (\`created_by_id\`);`);
    this.addSql(`create index \`api_keys_organization_id_name_id_index\` on \`api_keys\` (\`organization_id\`, \`name\`, \`id\`);`);
    this.addSql(`create index \`api_keys_organization_id_access_index\` on \`api_keys\` (\`organization_id\`, \`access\`);`);

    this.addSql(`create table \`runs\` (\`id\` text not null, \`organization_id\` text not null, \`kind\` text check (\`kind\` in ('PROMPT', 'FLOW')) not null, \`status\` text check (\`status\` in ('RUNNING', 'SUCCEEDED', 'FAILED')) not null, \`prompt_id\` text null, \`flow_id\` text null, \`api_key_id\` text null, \`user_id\` text null, \`inputs\` json not null, \`result\` text null, \`error\` text null, \`end_user_id\` text null, \`started_at\` datetime not null, \`finished_at\` datetime null, \`duration_ms\` integer null, \`deadline_at\` datetime not null, \`prompt_tokens\` integer not null default 0, \`completion_tokens\` integer not null default 0, \`rating\` integer null, constraint \`runs_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, constraint \`runs_prompt_id_foreign\` foreign key(\`prompt_id\`) references \`prompts\`(\`id\`) on delete set null on update cascade, constraint \`runs_flow_id_foreign\` foreign key(\`flow_id\`) references \`flows\`(\`id\`) on delete set null on update cascade, constraint \`runs_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete set null on update cascade, constraint \`runs_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`runs_organization_id_index\` on \`runs\` (\`organization_id\`);`);
    this.addSql(`create index \`runs_prompt_id_index\` on \`runs\` (\`prompt_id\`);`);
    this.addSql(`create index \`runs_flow_id_index\` on \`runs\` (\`flow_id\`);`);
    this.addSql(`create index \`runs_api_key_id_index\` on \`runs\` (\`api_key_id\`);`);
    this.addSql(`create index \`runs_user_id_index\` on \`runs\` (\`user_id\`);`);
    this.addSql(`create index \`runs_organization_id_started_at_id_index\` on \`runs\` (\`organization_id\`, \`started_at\`, \`id\`);`);
    this.addSql(`create index \`runs_api_key_id_started_at_index\` on \`runs\` (\`api_key_id\`, \`started_at\`);`);
    this.addSql(`create index \`runs_prompt_id_started_at_index\` on \`runs\` (\`prompt_id\`, \`started_at\`);`);
    this.addSql(`create index \`runs_flow_id_started_at_index\` on \`runs\` (\`flow_id\`, \`started_at\`);`);
    this.addSql(`create index \`runs_status_deadline_at_index\` on \`runs\` (\`status\`, \`deadline_at\`);`);

    this.addSql(`create table \`run_steps\` (\`id\` text not null, \`run_id\` text not null, \`position\` integer not null, \`prompt_id\` text not null, \`status\` text check (\`status\` in ('RUNNING', 'SUCCEEDED', 'FAILED')) not null, \`result\` text null, \`error\` text null, \`duration_ms\` integer null, \`prompt_tokens\` integer not null default 0, \`completion_tokens\` integer not null default 0, constraint \`run_steps_run_id_foreign\` foreign key(\`run_id\`) references \`runs\`(\`id\`) on delete cascade on update cascade, constraint \`run_steps_prompt_id_foreign\` foreign key(\`prompt_id\`) references \`prompts\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`run_steps_run_id_index\` on \`run_steps\` (\`run_id\`);`);
    this.addSql(`create index \`run_steps_prompt_id_index\` on \`run_steps\` (\`prompt_id\`);`);
    this.addSql(`create unique index \`run_steps_run_id_position_unique\` on \`run_steps\` (\`run_id\`, \`position\`);`);

    this.addSql(`create table \`api_key_secrets\` (\`id\` text not null, \`api_key_id\` text not null, \`secret_hash\` text not null, \`expires_at\` datetime null, \`created_at\` datetime not null, constraint \`api_key_secrets_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_key_secrets_api_key_id_index\` on \`api_key_secrets\` (\`api_key_id\`);`);
    this.addSql(`create unique index \`api_key_secrets_secret_hash_unique\` on \`api_key_secrets\` (\`secret_hash\`);`);

    this.addSql(`create table \`api_key_prompt_grants\` (\`id\` text not null, \`api_key_id\` text not null, \`prompt_id\` text not null, constraint \`api_key_prompt_grants_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete cascade on update cascade, constraint \`api_key_prompt_grants_prompt_id_foreign\` foreign key(\`prompt_id\`) references \`prompts\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_key_prompt_grants_api_key_id_index\` on \`api_key_prompt_grants\` (\`api_key_id\`);`);
    this.addSql(`create index \`api_key_prompt_grants_prompt_id_index\` on \`api_key_prompt_grants\` (\`prompt_id\`);`);
    this.addSql(`create unique index \`api_key_prompt_grants_api_key_id_prompt_id_unique\` on \`api_key_prompt_grants\` (\`api_key_id\`, \`prompt_id\`);`);

    this.addSql(`create table \`api_key_flow_grants\` (\`id\` text not null, \`api_key_id\` text not null, \`flow_id\` text not null, constraint \`api_key_flow_grants_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete cascade on update cascade, constraint \`api_key_flow_grants_flow_id_foreign\` foreign key(\`flow_id\`) references \`flows\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_key_flow_grants_api_key_id_index\` on \`api_key_flow_grants\` (\`api_key_id\`);`);
    this.addSql(`create index \`api_key_flow_grants_flow_id_index\` on \`api_key_flow_grants\` (\`flow_id\`);`);
    this.addSql(`create unique index \`api_key_flow_grants_api_key_id_flow_id_unique\` on \`api_key_flow_grants\` (\`api_key_id\`, \`flow_id\`);`);
  }

}
