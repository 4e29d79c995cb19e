import { createGraphQLError } from 'graphql-yoga';

/**
 * What CSRF prevention still buys here. PromptGate reads credentials only from the Authorization
 * header, never from a cookie, so a request that a page on another site makes a visitor's browser
 * send carries no one's credentials: it can do only what anyone may do anonymously. What is left
 * is that anonymous POST (signUp, logIn) sent *from the visitor's network*: it would spend the
 * visitor's sign-in throttle budget per address, or reach a PromptGate only reachable inside
 * that network. Browsers send such a POST without asking first (no CORS preflight) only with a
 * form's or text's content type: those POSTs need the header `x-graphql-yoga-csrf`.
 *
 * A GET is not refused: it can only run a query (mutations over GET are 405), a cross-site page
 * cannot read the answer, and urql sends queries as GET with no content type by default.
 */
const SENT_WITHOUT_PREFLIGHT = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

export function useFormPostRefusal() {
  return {
    onRequestParse({ request }: { request: Request }) {
      if (request.method !== 'POST' || request.headers.has('x-graphql-yoga-csrf')) return;
      const type = request.headers.get('content-type')?.toLowerCase() ?? '';
      if (type && !SENT_WITHOUT_PREFLIGHT.some((simple) => type.startsWith(simple))) return;
      throw createGraphQLError('Required CSRF header(s) not present: a form or text POST needs x-graphql-yoga-csrf', {
        extensions: { http: { status: 403 } },
      });
    },
  };
}
