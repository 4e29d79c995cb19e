import { MikroORM } from '@mikro-orm/core';
import type { DatabaseConfig } from '../config.ts';
import { ormOptions } from './mikro-orm.config.ts';

export type Orm = MikroORM;

/** Connects to the store and brings its schema up to date with the committed migrations. */
export async function openDatabase(database: DatabaseConfig): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(database));
  await orm.getMigrator().up();
  return orm;
}
