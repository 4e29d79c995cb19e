// Written by scripts/write-migration-index.ts: do not edit by hand.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126133052_initial } from './Migration20261126133052_initial.ts';
import { Migration20261201202455_access_index } from './Migration20261201202455_access_index.ts';
import { Migration20261201221456_webhooks } from './Migration20261201221456_webhooks.ts';
import { Migration20261201221500_permission_insight } from './Migration20261201221500_permission_insight.ts';
import { Migration20261201221512_key_limits } from './Migration20261201221512_key_limits.ts';
import { Migration20261202062907_expiry_counts } from './Migration20261202062907_expiry_counts.ts';

/** Every PostgreSQL migration, oldest first. */
export const postgresqlMigrations: MigrationObject[] = [
  { name: 'Migration20261126133052_initial', class: Migration20261126133052_initial },
  { name: 'Migration20261201202455_access_index', class: Migration20261201202455_access_index },
  { name: 'Migration20261201221456_webhooks', class: Migration20261201221456_webhooks },
  { name: 'Migration20261201221500_permission_insight', class: Migration20261201221500_permission_insight },
  { name: 'Migration20261201221512_key_limits', class: Migration20261201221512_key_limits },
  { name: 'Migration20261202062907_expiry_counts', class: Migration20261202062907_expiry_counts },
];
