// Written by scripts/write-migration-index.ts: do not edit by hand.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126131700_initial } from './Migration20261126131700_initial.ts';
import { Migration20261126132518_api_keys } from './Migration20261126132518_api_keys.ts';

/** Every PostgreSQL migration, oldest first. */
export const postgresqlMigrations: MigrationObject[] = [
  { name: 'Migration20261126131700_initial', class: Migration20261126131700_initial },
  { name: 'Migration20261126132518_api_keys', class: Migration20261126132518_api_keys },
];
