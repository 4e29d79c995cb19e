import type { Plugin } from 'graphql-yoga';

/**
 * Several plugins' request-level hooks (onRequest, onResultProcess, onResponse) as one hook each.
 *
 * Yoga runs every hook of these kinds through a chain of promise-like objects, for every request,
 * whether or not the hook has anything to do: about a kilobyte of garbage and a microsecond a hook,
 * and PromptGate's own plugins had nine of them. These plugins' hooks return at once on nearly every
 * request (a path that is not theirs, a note taken), so one hook calls them in turn, in their order,
 * and waits only for one that returns a promise. Each sees what the earlier ones set (a new
 * request, a new result or response), and once one answers the request (endResponse) the later
 * ones are not called, as in yoga. The plugins' other hooks (envelop's onExecute, onValidate, …)
 * stay where they are.
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
      // One object for the whole sequence: it follows setRequest, and endResponse stops the rest.
      const shared: typeof payload = {
        ...payload,
        setRequest(request) {
          shared.request = request;
          payload.setRequest(request);
        },
        endResponse(response) {
          // As whatwg-node: only a response ends the request.
          if (response) answered = true;
          payload.endResponse(response);
        },
      };
      return inTurn(onRequest, shared, () => answered);
    };
  }
  if (onResultProcess.length) {
    composed.onResultProcess = (payload) => {
      const shared: typeof payload = {
        ...payload,
        setResult(result) {
          shared.result = result;
          payload.setResult(result);
        },
      };
      return inTurn(onResultProcess, shared, () => false);
    };
  }
  if (onResponse.length) {
    composed.onResponse = (payload) => {
      const shared: typeof payload = {
        ...payload,
        setResponse(response) {
          shared.response = response;
          payload.setResponse(response);
        },
      };
      return inTurn(onResponse, shared, () => false);
    };
  }
  const rest = plugins.map(({ onRequest: _request, onResultProcess: _result, onResponse: _response, ...others }) => others);
  return [composed, ...rest] as T[];
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
