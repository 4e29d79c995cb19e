import type { DocumentNode } from 'graphql';
import type { Context } from '../context.ts';
import { operationOf } from '../metrics.ts';
import { RequestSlot } from '../request-slot.ts';

/**
 * Whether this request's operation is a query: nothing it loads is changed, so loaders may answer
 * read-only objects (db/read-only.ts) instead of managed entities, whose identity map and snapshot
 * only a change needs (em.map was ~85 µs of an Integrate-tab page for its one prompt). A mutation,
 * a REST call or the CLI gets managed entities: a service there may change what a field loaded,
 * and the identity map keeps both the same object.
 */
const queryOnly = new RequestSlot<boolean>('query only');

export function readsOnly(ctx: Context): boolean {
  return queryOnly.get(ctx) === true;
}

/**
 * Marks each request by its operation before it executes: the operation the request log and the
 * metrics already found, kept with the parsed document (metrics.ts), not looked up again.
 */
export function useReadOnlyQueries() {
  return {
    onExecute({ args }: { args: { document: DocumentNode; operationName?: string | null; contextValue: Context } }) {
      queryOnly.set(args.contextValue, operationOf(args.document, args.operationName).type === 'query');
    },
  };
}
