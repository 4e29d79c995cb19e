import { Migration } from '@mikro-orm/migrations';

export class Migration20261201202455_access_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "key_access_counts" ("scope_id" varchar(32) not null, "non_expiring" int not null, constraint "key_access_counts_pkey" primary key ("scope_id"));`);

    this.addSql(`create table "key_access" ("prompt_id" varchar(32) not null, "api_key_id" varchar(32) not null, "key_name" varchar(200) not null, "expires_at" timestamptz null, "paths" int not null, constraint "key_access_pkey" primary key ("prompt_id", "api_key_id"));`);
    this.addSql(`create index "key_access_api_key_id_index" on "key_access" ("api_key_id");`);
    this.addSql(`create index "key_access_page" on "key_access" ("prompt_id", "key_name", "api_key_id", "expires_at");`);
    this.addSql(`create index "key_access_expiring" on "key_access" ("prompt_id", "expires_at");`);

    this.addSql(`alter table "key_access" add constraint "key_access_prompt_id_foreign" foreign key ("prompt_id") references "prompts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "key_access" add constraint "key_access_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`);

    this.addSql(`drop index "api_keys_organization_id_access_index";`);

    this.addSql(`create index "api_keys_organization_id_access_revoked_at_name_id_a92fa_index" on "api_keys" ("organization_id", "access", "revoked_at", "name", "id", "expires_at");`);
    this.addSql(`create index "api_keys_organization_id_access_revoked_at_expires_at_index" on "api_keys" ("organization_id", "access", "revoked_at", "expires_at");`);
    // Build the index and its counts from the grants already there (the services keep it from now
    // on). Frozen here rather than imported: a migration runs the SQL of its own time.
    // Current statistics before the build's joins, so a database whose tables grew since its last
    // ANALYZE is not planned as if they were small.
    this.addSql(`analyze "prompts", "flow_steps", "api_keys", "api_key_prompt_grants", "api_key_flow_grants";`);
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

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "key_access_counts" cascade;`);

    this.addSql(`drop table if exists "key_access" cascade;`);

    this.addSql(`drop index "api_keys_organization_id_access_revoked_at_name_id_a92fa_index";`);
    this.addSql(`drop index "api_keys_organization_id_access_revoked_at_expires_at_index";`);

    this.addSql(`create index "api_keys_organization_id_access_index" on "api_keys" ("organization_id", "access");`);
  }

}
