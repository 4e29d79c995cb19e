import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221512_key_limits extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`api_key_monthly_usage\` (\`api_key_id\` text not null, \`month\` text not null, \`runs\` integer not null default 0, \`tokens\` bigint not null default 0, constraint \`api_key_monthly_usage_api_key_id_foreign\` foreign key(\`api_key_id\`) references \`api_keys\`(\`id\`) on delete cascade on update cascade, primary key (\`api_key_id\`, \`month\`));`);
    this.addSql(`create index \`api_key_monthly_usage_api_key_id_index\` on \`api_key_monthly_usage\` (\`api_key_id\`);`);

    this.addSql(`alter table \`api_keys\` add column \`rate_limit_per_minute\` integer null;`);
    this.addSql(`alter table \`api_keys\` add column \`monthly_run_quota\` integer null;`);
    this.addSql(`alter table \`api_keys\` add column \`monthly_token_quota\` bigint null;`);
    this.addSql(`alter table \`api_keys\` add column \`allowed_cidrs\` json null;`);
  }

}
