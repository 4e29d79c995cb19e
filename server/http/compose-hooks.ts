import type { Plugin } from 'graphql-yoga';

/**
 * Several plugins' request-level hooks (onRequest, onResultProcess, onResponse) as one hook each.
 *
 * Yoga runs every hook of these kinds through a chain of promise-like objects, for every request,
 * whether or not the hook has anything to do: about a kilobyte of garbage and a microsecond a hook,
 * and PromptGate's own plugins had nine of them. These plugins' hooks return at once on nearly every
 * request (a path that is not theirs, a note taken), so one hook calls them in turn, in their order,
 * and waits only for one that returns a promise. Each sees what the earlier ones set (a request or
 * request handler, a result or result processor, a response), and once one answers the request
 * (endResponse) the later ones are not called, as in yoga. The plugins' other hooks (envelop's
 * onExecute, onValidate, …) stay where they are.
 */
export function composeRequestHooks<T extends object>(given: T[]): T[] {
  // Typed as yoga's plugins for their request-level hooks; each keeps its own type otherwise.
  const plugins = given as Plugin[];
  const onRequest = plugins.flatMap((plugin) => (plugin.onRequest ? [plugin.onRequest.bind(plugin)] : []));
  const onResultProcess = plugins.flatMap((plugin) => (plugin.onResultProcess ? [plugin.onResultProcess.bind(plugin)] : []));
  const onResponse = plugins.flatMap((plugin) => (plugin.onResponse ? [plugin.onResponse.bind(plugin)] : []));
  const composed: Plugin = {};
  if (onRequest.length) {
    composed.onRequest = (payload) => {
      let answered = false;
      const shared = following(payload, { setRequest: 'request', setRequestHandler: 'requestHandler' });
      // endResponse stops the rest, as whatwg-node does: only for a response.
      shared.endResponse = (response) => {
        if (response) answered = true;
        payload.endResponse(response);
      };
      return inTurn(onRequest, shared, () => answered);
    };
  }
  if (onResultProcess.length) {
    composed.onResultProcess = (payload) => inTurn(onResultProcess, following(payload, { setResult: 'result', setResultProcessor: 'resultProcessor' }), () => false);
  }
  if (onResponse.length) {
    composed.onResponse = (payload) => inTurn(onResponse, following(payload, { setResponse: 'response' }), () => false);
  }
  const rest = plugins.map(({ onRequest: _request, onResultProcess: _result, onResponse: _response, ...others }) => others);
  return [composed, ...rest] as T[];
}

/**
 * One payload for a stage's hooks: each setter named also updates the field it sets, so a later
 * hook sees what an earlier one set, as when yoga made each hook a payload of its own.
 */
function following<P extends object>(payload: P, setters: Partial<Record<keyof P, keyof P>>): P {
  const shared = { ...payload };
  for (const [setter, field] of Object.entries(setters) as [keyof P, keyof P][]) {
    const set = payload[setter] as (...args: unknown[]) => unknown;
    (shared as Record<keyof P, unknown>)[setter] = (...args: unknown[]) => {
      (shared as Record<keyof P, unknown>)[field] = args[0];
      return set(...args);
    };
  }
  return shared;
}

/** Calls the hooks one after another with one payload; a promise from one defers the rest until it settles. */
function inTurn<P>(hooks: readonly ((payload: P) => unknown)[], payload: P, stopped: () => boolean, from = 0): Promise<void> | void {
  for (let i = from; i < hooks.length; i++) {
    if (stopped()) return;
    const result = hooks[i]!(payload);
    if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(result).then(() => inTurn(hooks, payload, stopped, i + 1));
    }
  }
}
