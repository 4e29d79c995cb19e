import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { notFound } from '../errors.ts';
import { typeOfId, type IdType } from '../ids.ts';

/**
 * The Node interface and `node(id)`. Ids carry their type in their prefix (server/ids.ts), so the
 * interface resolves an object's type from its id, and `node` knows which loader to ask. Each
 * module registers the loader of its own node types; the object's own type-level auth scopes then
 * decide who may see it, exactly as when it is reached any other way.
 */
export const NodeRef = builder.interfaceRef<{ id: string }>('Node').implement({
  resolveType: (node) => typeOfId(node.id) ?? null,
  fields: (t) => ({ id: t.exposeID('id') }),
});

type NodeLoader = (ctx: Context, id: string) => Promise<{ id: string } | null>;
const nodeLoaders = new Map<IdType, NodeLoader>();

export function registerNodeLoader(type: IdType, load: NodeLoader): void {
  nodeLoaders.set(type, load);
}

builder.queryField('node', (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: { authenticated: true },
    resolve: async (_root, { id }, ctx) => {
      const type = typeOfId(id);
      const load = type && nodeLoaders.get(type);
      const node = load ? await load(ctx, id) : null;
      // Named like the type-level checks name an unseen object, so the two read the same.
      if (!node) throw notFound(type ?? 'Node', id);
      return node;
    },
  }),
);
