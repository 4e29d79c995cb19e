import { Migration } from '@mikro-orm/migrations';

export class Migration20261202062907_expiry_counts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`key_access_expiry_counts\` (\`scope_id\` text not null, \`expiry_day\` integer not null, \`keys\` integer not null, primary key (\`scope_id\`, \`expiry_day\`));`);
    // The counts of keys with an expiry, per UTC day of it, from the index and the keys already
    // there (the services keep them from now on). Frozen here: a migration runs the SQL of its time.
    this.addSql(`insert into key_access_expiry_counts (scope_id, expiry_day, keys)
      select prompt_id, (expires_at / 86400000) as day, count(*) from key_access
      where expires_at is not null group by prompt_id, day;`);
    this.addSql(`insert into key_access_expiry_counts (scope_id, expiry_day, keys)
      select organization_id, (expires_at / 86400000) as day, count(*) from api_keys
      where access = 'ORGANIZATION' and revoked_at is null and expires_at is not null group by organization_id, day;`);
  }

}
