import { RequestCache } from '@pothos/plugin-scope-auth';

/**
 * Lets go of what a request holds once it is answered, so that its objects die young.
 *
 * Pothos keeps its per-request caches (scope-auth's decisions, each loadable type's DataLoader) in
 * WeakMaps keyed by the request's context, and each cached value reaches the context. V8's
 * young-generation collector keeps a WeakMap entry whose key is young alive, with everything its
 * value reaches, until the next full collection: every request in flight at a collection, its
 * context, Request, parsed variables and loaded rows, was copied and then promoted to the old
 * generation instead of being freed, and full collections ran far more often. Measured over HTTP on
 * a key request, 12% of what a request allocated reached the old generation; with this, under 1%,
 * and key requests cost a quarter to a third less CPU (bench/README.md, "Garbage").
 *
 * - scope-auth's cache has a way to drop it (RequestCache.clearForContext), called once the
 *   operation has run;
 * - a DataLoader's entry has none, so the context it reaches is emptied of the request's objects
 *   once the response is made: nothing reads them after (the response is sent from yoga's own
 *   references to it). What stays reachable until the next full collection is a few small objects.
 */
export function useReleaseRequest() {
  return {
    onExecute({ args }: { args: { contextValue: object } }) {
      return {
        onExecuteDone() {
          RequestCache.clearForContext(args.contextValue);
        },
      };
    },
    // Last of the response hooks (createApp lists this plugin last): the request log has read what it needs.
    onResponse({ serverContext }: { serverContext: Record<string, unknown> | undefined }) {
      if (!serverContext) return;
      // Yoga's fields (the Request, its parameters, node's request and response) and this
      // request's own slots (request-slot.ts: the key's row, loaded objects).
      for (const field of RELEASED_FIELDS) serverContext[field] = undefined;
    },
  };
}

const RELEASED_FIELDS = ['request', 'params', 'req', 'res', 'slots'] as const;
