import type { EntityManager } from '@mikro-orm/core';
import { loadByIds } from '../../db/batch.ts';
import { UserSchema, type User } from './user.entity.ts';

export function loadUsers(em: EntityManager, ids: readonly string[]): Promise<(User | null)[]> {
  return loadByIds(em, UserSchema, ids);
}
