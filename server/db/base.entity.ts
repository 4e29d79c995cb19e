import { p } from '@mikro-orm/core';
import { newId, type IdType } from '../ids.ts';

/**
 * The properties entities share, spread into each `defineEntity`'s properties. (MikroORM 6's
 * `extends` of an abstract schema maps the same columns, but `InferEntity` leaves the base's
 * properties out of the entity's type.) Each call makes fresh builders: the ORM's metadata
 * discovery writes into a property's options, so no two entities may share one.
 *
 * The values are made when the entity is (`processOnCreateHooksEarly` in mikro-orm.config.ts), so
 * a service can use a new entity's id before the flush; a value given to `em.create` wins.
 */

/** The prefixed id of ids.ts. */
export function baseProperties(type: IdType) {
  return {
    id: p.string().primary().length(32).onCreate(() => newId(type)),
  };
}

/** The id, and when the row was created. */
export function createdProperties(type: IdType) {
  return {
    ...baseProperties(type),
    createdAt: p.datetime().onCreate(() => new Date()),
  };
}

/** The id, when the row was created, and when it last changed (set on every flush that changes it). */
export function timestampedProperties(type: IdType) {
  return {
    ...createdProperties(type),
    // A new row was last changed when it was created, to the millisecond.
    updatedAt: p
      .datetime()
      .onCreate((entity: { createdAt?: Date }) => entity.createdAt ?? new Date())
      .onUpdate(() => new Date()),
  };
}
