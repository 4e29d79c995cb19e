import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221500_permission_insight extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "runs" add column "access_via" varchar(20) null, add column "granted_by" varchar(32) null;`);
    this.addSql(`create index "runs_api_key_id_granted_by_started_at_index" on "runs" ("api_key_id", "granted_by", "started_at");`);

    this.addSql(`alter table "api_key_prompt_grants" add column "granted_at" timestamptz null;`);

    this.addSql(`alter table "api_key_flow_grants" add column "granted_at" timestamptz null;`);
    this.addSql(`alter table "key_access" add column "prompt_name" varchar(200) null;`);
    this.addSql(`create index "key_access_runnable" on "key_access" ("api_key_id", "prompt_name", "prompt_id");`);
    this.addSql(`update "key_access" a set "prompt_name" = p."name" from "prompts" p where p."id" = a."prompt_id";`);
    // Grants made before the column: the best moment known is the key's creation.
    this.addSql(`update "api_key_prompt_grants" g set "granted_at" = k."created_at" from "api_keys" k where k."id" = g."api_key_id";`);
    this.addSql(`update "api_key_flow_grants" g set "granted_at" = k."created_at" from "api_keys" k where k."id" = g."api_key_id";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "key_access_runnable";`);
    this.addSql(`alter table "key_access" drop column "prompt_name";`);

    this.addSql(`alter table "api_key_flow_grants" drop column "granted_at";`);

    this.addSql(`alter table "api_key_prompt_grants" drop column "granted_at";`);

    this.addSql(`drop index "runs_api_key_id_granted_by_started_at_index";`);
    this.addSql(`alter table "runs" drop column "access_via", drop column "granted_by";`);
  }

}
