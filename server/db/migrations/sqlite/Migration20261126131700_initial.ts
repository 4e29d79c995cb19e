import { Migration } from '@mikro-orm/migrations';

export class Migration20261126131700_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`organizations\` (\`id\` text not null, \`name\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);

    this.addSql(`create table \`flows\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`description\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`flows_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`flows_organization_id_index\` on \`flows\` (\`organization_id\`);`);
    this.addSql(`create index \`flows_organization_id_name_id_index\` on \`flows\` (\`organization_id\`, \`name\`, \`id\`);`);

    this.addSql(`create table \`audit_events\` (\`id\` text not null, \`organization_id\` text null, \`actor_user_id\` text null, \`actor_api_key_id\` text null, \`action\` text not null, \`target_id\` text null, \`changes\` json null, \`created_at\` datetime not null, constraint \`audit_events_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`audit_events_organization_id_index\` on \`audit_events\` (\`organization_id\`);`);
    this.addSql(`create index \`audit_events_organization_id_created_at_id_index\` on \`audit_events\` (\`organization_id\`, \`created_at\`, \`id\`);`);

    this.addSql(`create table \`prompts\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`description\` text null, \`template\` text not null, \`model\` text not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`prompts_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
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
  }

}
