import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { createdProperties } from '../../db/base.entity.ts';

export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: (p) => ({
    ...createdProperties('User'),
    /** Stored lower-cased, so sign-in does not depend on how the address was typed. */
    email: p.string().length(320).unique(),
    name: p.string().length(200),
    /** scrypt, self-describing (see auth/credentials.ts); never the password itself. */
    passwordHash: p.string().length(255).hidden(),
  }),
});
export type User = InferEntity<typeof UserSchema>;

export const SessionSchema = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: (p) => ({
    ...createdProperties('Session'),
    user: p.manyToOne(UserSchema).mapToPk().deleteRule('cascade').index(),
    /** SHA-256 of the session token: a stolen database holds no usable token. */
    tokenHash: p.string().length(64).unique().hidden(),
    expiresAt: p.datetime(),
  }),
});
export type Session = InferEntity<typeof SessionSchema>;
