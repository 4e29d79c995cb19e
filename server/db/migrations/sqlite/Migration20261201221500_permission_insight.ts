import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221500_permission_insight extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`runs\` add column \`access_via\` text null;`);
    this.addSql(`alter table \`runs\` add column \`granted_by\` text null;`);
    this.addSql(`create index \`runs_api_key_id_granted_by_started_at_index\` on \`runs\` (\`api_key_id\`, \`granted_by\`, \`started_at\`);`);

    this.addSql(`alter table \`api_key_prompt_grants\` add column \`granted_at\` datetime null;`);

    this.addSql(`alter table \`api_key_flow_grants\` add column \`granted_at\` datetime null;`);
    this.addSql(`alter table \`key_access\` add column \`prompt_name\` text null;`);
    this.addSql(`create index \`key_access_runnable\` on \`key_access\` (\`api_key_id\`, \`prompt_name\`, \`prompt_id\`);`);
    this.addSql(`update \`key_access\` set \`prompt_name\` = (select p.\`name\` from \`prompts\` p where p.\`id\` = \`prompt_id\`);`);
    // Grants made before the column: the best moment known is the key's creation.
    this.addSql(`update \`api_key_prompt_grants\` set \`granted_at\` = (select k.\`created_at\` from \`api_keys\` k where k.\`id\` = \`api_key_id\`);`);
    this.addSql(`update \`api_key_flow_grants\` set \`granted_at\` = (select k.\`created_at\` from \`api_keys\` k where k.\`id\` = \`api_key_id\`);`);
  }

}
