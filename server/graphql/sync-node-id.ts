import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';

/**
 * The `id` of every node, answered synchronously. The relay plugin resolves a node's id with an
 * async function, so every object of a list had a promise to wait for before it was complete: on
 * the Integrate tab's page of 20 keys, 20 promises, their microtasks and graphql's promise-for-object
 * per key, a fifth of what the page allocated. Here the node's own `id.resolve` and the builder's
 * `encodeGlobalID` are called directly; only an id that is itself a promise goes the plugin's way.
 *
 * Registered last among the plugins (builder.ts), so that it replaces the relay plugin's resolver
 * itself and every other plugin still wraps the result.
 */
export class SyncNodeIdPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types['Context'], object>, fieldConfig: PothosOutputFieldConfig<Types>): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const relay = this.builder.options.relay;
    const idFieldName = relay?.idFieldName ?? 'id';
    if (fieldConfig.name !== idFieldName || fieldConfig.kind !== 'Object' || !relay?.encodeGlobalID) return resolver;
    const typeConfig = this.buildCache.getTypeConfig(fieldConfig.parentType);
    const nodeId = (typeConfig.pothosOptions as { id?: { resolve?: unknown } }).id?.resolve;
    // Only a node's id field (its type was made by the relay plugin with `id: { resolve }`).
    if (typeConfig.kind !== 'Object' || typeof nodeId !== 'function') return resolver;
    if (!typeConfig.interfaces.some((face) => this.buildCache.getTypeConfig(face).name === 'Node')) return resolver;
    const encode = relay.encodeGlobalID;
    const typeName = typeConfig.name;
    return (parent, args, context, info) => {
      const id = (nodeId as GraphQLFieldResolver<unknown, Types['Context'], object>)(parent, args, context, info) as unknown;
      if (id !== null && typeof id === 'object' && typeof (id as { then?: unknown }).then === 'function') return resolver(parent, args, context, info);
      return id === null || id === undefined ? id : encode(typeName, String(id as string), context);
    };
  }
}

declare global {
  // Pothos types its plugins through this global namespace: module syntax cannot extend it.
  // eslint-disable-next-line @typescript-eslint/no-namespace -- see above
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      syncNodeId: SyncNodeIdPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('syncNodeId', SyncNodeIdPlugin);

export default 'syncNodeId' as const;
