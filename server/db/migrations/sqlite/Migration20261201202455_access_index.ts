import { Migration } from '@mikro-orm/migrations';

export class Migration20261201202455_access_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`key_access_counts\` (\`scope_id\` text not null, \`non_expiring\` integer not null, primary key (\`scope_id\`));`);

    this.addSql(`create table \`key_access\` (\`prompt_id\` text not null, \`api_key_id\` text not null, \`key_name\` text not null, \`expires_at\` datetime null, \`paths\` integer not null, constraint \`key_access_prompt_id_foreign\` foreign key(\`prompt_id\`) references \`prompts\`(\`id\`) on delete cascade on update cascade, constraint \`key_access_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete cascade on update cascade, primary key (\`prompt_id\`, \`api_key_id\`));`);
    this.addSql(`create index \`key_access_prompt_id_index\` on \`key_access\` (\`prompt_id\`);`);
    this.addSql(`create index \`key_access_api_key_id_index\` on \`key_access\` (\`api_key_id\`);`);
    this.addSql(`create index \`key_access_page\` on \`key_access\` (\`prompt_id\`, \`key_name\`, \`api_key_id\`, \`expires_at\`);`);
    this.addSql(`create index \`key_access_expiring\` on \`key_access\` (\`prompt_id\`, \`expires_at\`);`);

    this.addSql(`drop index \`api_keys_organization_id_access_index\`;`);

    this.addSql(`create index \`api_keys_organization_id_access_revoked_at_name_id_expires_at_index\` on \`api_keys\` (\`organization_id\`, \`access\`, \`revoked_at\`, \`name\`, \`id\`, \`expires_at\`);`);
    this.addSql(`create index \`api_keys_organization_id_access_revoked_at_expires_at_index\` on \`api_keys\` (\`organization_id\`, \`access\`, \`revoked_at\`, \`expires_at\`);`);
    // Build the index and its counts from the grants already there (the services keep it from now
    // on). Frozen here rather than imported: a migration runs the SQL of its own time.
    this.addSql(`insert into key_access (prompt_id, api_key_id, key_name, expires_at, paths)
      select x.prompt_id, k.id, k.name, k.expires_at, count(*)
      from (select g.api_key_id, g.prompt_id from api_key_prompt_grants g
            union all
            select g.api_key_id, s.prompt_id from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id) x
      join api_keys k on k.id = x.api_key_id
      join prompts p on p.id = x.prompt_id
      where k.access = 'SPECIFIC' and k.revoked_at is null and p.deleted_at is null
      group by x.prompt_id, k.id, k.name, k.expires_at;`);
    this.addSql(`insert into key_access_counts (scope_id, non_expiring)
      select prompt_id, count(*) from key_access where expires_at is null group by prompt_id;`);
    this.addSql(`insert into key_access_counts (scope_id, non_expiring)
      select organization_id, count(*) from api_keys
      where access = 'ORGANIZATION' and revoked_at is null and expires_at is null group by organization_id;`);
  }

}
