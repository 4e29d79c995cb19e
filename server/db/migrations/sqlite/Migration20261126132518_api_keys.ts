import { Migration } from '@mikro-orm/migrations';

export class Migration20261126132518_api_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`api_keys\` (\`id\` text not null, \`organization_id\` text not null, \`name\` text not null, \`prefix\` text not null, \`access\` text check (\`access\` in ('ORGANIZATION', 'SPECIFIC')) not null, \`expires_at\` datetime null, \`revoked_at\` datetime null, \`last_used_at\` datetime null, \`created_by_id\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`api_keys_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, constraint \`api_keys_created_by_id_foreign\` foreign key(\`created_by_id\`) references \`users\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`api_keys_organization_id_index\` on \`api_keys\` (\`organization_id\`);`);
    this.addSql(`create index \`api_keys_created_by_id_index\` on \`api_keys\` (\`created_by_id\`);`);
    this.addSql(`create index \`api_keys_organization_id_name_id_index\` on \`api_keys\` (\`organization_id\`, \`name\`, \`id\`);`);
    this.addSql(`create index \`api_keys_organization_id_access_index\` on \`api_keys\` (\`organization_id\`, \`access\`);`);

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

    this.addSql(`pragma foreign_keys = off;`);
    this.addSql(`create table \`memberships__temp_alter\` (\`id\` text not null, \`organization_id\` text not null, \`user_id\` text not null, \`role\` text check (\`role\` in ('OWNER', 'ADMIN', 'MEMBER')) not null, \`created_at\` datetime not null, constraint \`memberships_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, constraint \`memberships_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`insert into \`memberships__temp_alter\` select \`id\`, \`organization_id\`, \`user_id\`, \`role\`, \`created_at\` from \`memberships\`;`);
    this.addSql(`drop table \`memberships\`;`);
    this.addSql(`alter table \`memberships__temp_alter\` rename to \`memberships\`;`);
    this.addSql(`create index \`memberships_organization_id_index\` on \`memberships\` (\`organization_id\`);`);
    this.addSql(`create index \`memberships_user_id_index\` on \`memberships\` (\`user_id\`);`);
    this.addSql(`create unique index \`memberships_organization_id_user_id_unique\` on \`memberships\` (\`organization_id\`, \`user_id\`);`);
    this.addSql(`pragma foreign_keys = on;`);
  }

}
