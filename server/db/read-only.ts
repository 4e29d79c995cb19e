import type { EntityManager, EntityMetadata, EntityName, EntityProperty } from '@mikro-orm/core';
import type { Row } from './prepared.ts';

/**
 * Rows that a request shows and never changes (a page of the Integrate tab), as plain objects
 * shaped like their entity: the driver's own column mapping (names, dates) and each property's
 * own type conversion (JSON, bigint), without what em.map adds for an entity that may be changed
 * (identity map, the unit of work's snapshot, the entity factory): about 40 µs a row, most of a
 * page's cost. They are not managed: nothing flushes them, and a service that changes a key
 * loads it itself.
 */
export function readOnlyEntities<T extends object>(em: EntityManager, entity: EntityName<T>, rows: readonly Row[]): T[] {
  const meta = em.getMetadata().get<T>(entity);
  let converted = convertedProperties.get(meta);
  if (!converted) convertedProperties.set(meta, (converted = customTypeProperties(meta.props)));
  const platform = em.getPlatform();
  const driver = em.getDriver();
  return rows.map((row) => {
    const data = driver.mapResult(row as never, meta) as Record<string, unknown>;
    for (const prop of converted) {
      const value = data[prop.name];
      if (value != null) data[prop.name] = prop.customType!.convertToJSValue(value, platform);
    }
    return data as T;
  });
}

/**
 * Rows that carry only some of the entity's columns (a statement that read what a query asks for),
 * as read-only objects with exactly `properties` (any other column of the rows, such as a page's
 * total, is left out). Reading a property the rows did not carry throws at once, naming it, rather
 * than answering undefined as if the column were null: the object's prototype has a getter for
 * each property left out. (With every property, they are readOnlyEntities' objects without the
 * extra columns.)
 */
export function partialReadOnlyEntities<T extends object>(em: EntityManager, entity: EntityName<T>, rows: readonly Row[], properties: readonly string[]): T[] {
  const meta = em.getMetadata().get<T>(entity);
  const prototype = partialPrototype(meta, properties);
  return readOnlyEntities(em, entity, rows).map((whole) => {
    const partial = Object.create(prototype) as Record<string, unknown>;
    for (const property of properties) partial[property] = (whole as Record<string, unknown>)[property];
    return partial as T;
  });
}

const prototypesByShape = new Map<string, object>();

/** One prototype per entity and set of properties (a few: the callers' shapes are few). */
function partialPrototype(meta: EntityMetadata, properties: readonly string[]): object {
  const shape = `${meta.className}:${properties.join(',')}`;
  let prototype = prototypesByShape.get(shape);
  if (!prototype) {
    const carried = new Set(properties);
    const getters: PropertyDescriptorMap = {};
    for (const prop of meta.props) {
      if (carried.has(prop.name)) continue;
      getters[prop.name] = {
        get() {
          throw new Error(`${meta.className}.${prop.name} was not read: the statement that loaded this ${meta.className} read only ${properties.join(', ')}`);
        },
      };
    }
    // Every property carried: a plain object, as readOnlyEntities gives.
    prototype = Object.keys(getters).length === 0 ? Object.prototype : (Object.create(Object.prototype, getters) as object);
    prototypesByShape.set(shape, prototype);
  }
  return prototype;
}

const convertedProperties = new WeakMap<object, EntityProperty[]>();

/** The properties whose values the driver's mapping leaves in their stored form (JSON text, bigint strings). */
function customTypeProperties(props: readonly EntityProperty[]): EntityProperty[] {
  return props.filter((prop) => prop.customType && prop.persist !== false);
}
