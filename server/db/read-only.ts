import type { EntityManager, EntityName, EntityProperty } from '@mikro-orm/core';
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
  const converted = convertedProperties.get(meta) ?? customTypeProperties(meta.props);
  convertedProperties.set(meta, converted);
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

const convertedProperties = new WeakMap<object, EntityProperty[]>();

/** The properties whose values the driver's mapping leaves in their stored form (JSON text, bigint strings). */
function customTypeProperties(props: readonly EntityProperty[]): EntityProperty[] {
  return props.filter((prop) => prop.customType && prop.persist !== false);
}
