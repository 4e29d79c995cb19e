import { RequestCache } from '@pothos/plugin-scope-auth';

/**
 * Lets go of what a request holds once it is answered, so that its objects die young.
 *
 * Pothos keeps its per-request caches (scope-auth's decisions, each loadable type's DataLoader) in
 * WeakMaps keyed by an object of the request's context (initContextCache), and each cached value
 * reaches the context. V8's young-generation collector keeps a WeakMap entry whose key is young
 * alive, with everything its value reaches, until the next full collection: every request in
 * flight at a collection, its context, Request, parsed variables and loaded rows, was copied and
 * then promoted to the old generation instead of being freed, and full collections ran far more
 * often. Measured over HTTP on key requests, 12% of what a request allocated reached the old
 * generation; with this (and pretenuring off, heap.ts), 0.4%, and key requests cost a quarter to a
 * third less CPU (bench/README.md, "Garbage").
 *
 * - scope-auth's cache is dropped (RequestCache.clearForContext) once the operation has run;
 * - the DataLoader entries cannot be dropped, so once the response is made the context
 *   lets go of the request's objects: yoga's Request, its parameters, node's request and response,
 *   and the request's slots (request-slot.ts). Nothing reads them after: the response is sent from
 *   yoga's own references. What a request's DataLoaders loaded, and its EntityManager when one was
 *   forked, stay reachable until a full collection, as before. (Pothos's clearAllDataLoaders would
 *   empty the loaders, but it makes a WeakMap entry of its own for every request that made none,
 *   and key requests make none: it cost a `checkAccess` more than it saved.)
 *
 * A resolver still running after the response (a sibling of a non-null field that failed: the
 * executor answers without waiting for it) finds empty slots, not missing ones, and its result is
 * discarded.
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
    // createApp lists this plugin last, so composeRequestHooks (http/compose-hooks.ts) calls this
    // after the app's other response hooks (the request log's, which reads the request it is
    // given); yoga itself adds none after the app's plugins in createApp's configuration.
    onResponse({ serverContext }: { serverContext: Record<string, unknown> | undefined }) {
      if (!serverContext) return;
      serverContext.request = undefined;
      serverContext.params = undefined;
      serverContext.req = undefined;
      serverContext.res = undefined;
      serverContext.slots = {};
    },
  };
}
