import { Migration } from '@mikro-orm/migrations';

export class Migration20261201221456_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`webhooks\` (\`id\` text not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`organization_id\` text not null, \`url\` text not null, \`events\` json not null, \`enabled\` integer not null, \`secret_encrypted\` text not null, constraint \`webhooks_organization_id_foreign\` foreign key(\`organization_id\`) references \`organizations\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`webhooks_organization_id_index\` on \`webhooks\` (\`organization_id\`);`);

    this.addSql(`create table \`webhook_deliveries\` (\`id\` text not null, \`created_at\` datetime not null, \`webhook_id\` text not null, \`event\` text check (\`event\` in ('API_KEY_EXPIRING', 'API_KEY_EXPIRED', 'API_KEY_REVOKED', 'API_KEY_ROTATED', 'API_KEY_PERMISSIONS_UPDATED', 'API_KEY_QUOTA_WARNING', 'ACCESS_DENIED', 'PING')) not null, \`payload\` text not null, \`status\` text check (\`status\` in ('PENDING', 'DELIVERED', 'FAILED')) not null, \`attempts\` integer not null, \`response_status\` integer null, \`response_excerpt\` text null, \`last_attempt_at\` datetime null, \`next_attempt_at\` datetime null, \`dedupe_key\` text null, constraint \`webhook_deliveries_webhook_id_foreign\` foreign key(\`webhook_id\`) references \`webhooks\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_deliveries_webhook_id_index\` on \`webhook_deliveries\` (\`webhook_id\`);`);
    this.addSql(`create index \`webhook_deliveries_status_next_attempt_at_index\` on \`webhook_deliveries\` (\`status\`, \`next_attempt_at\`);`);
    this.addSql(`create index \`webhook_deliveries_webhook_id_created_at_id_index\` on \`webhook_deliveries\` (\`webhook_id\`, \`created_at\`, \`id\`);`);
    this.addSql(`create unique index \`webhook_deliveries_webhook_id_dedupe_key_unique\` on \`webhook_deliveries\` (\`webhook_id\`, \`dedupe_key\`);`);
  }

}
