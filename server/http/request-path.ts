/**
 * The path of a request's URL, for the plugins that route on it (REST, the request log). Parsing
 * the whole URL (`new URL`) costs microseconds on every request; nearly every request is to the
 * GraphQL endpoint, whose raw path is matched as text. Any other path is parsed, so it is
 * normalized (dot segments, percent-encodings) exactly as before.
 */
const GRAPHQL_PATH = '/graphql';

export function requestPath(url: string): string {
  // An absolute URL (scheme://authority/path?query): the path starts at the first "/" after "//".
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start > 0 && url.startsWith(GRAPHQL_PATH, start)) {
    const next = url.charCodeAt(start + GRAPHQL_PATH.length);
    // The end, "?" or "#": the path is exactly /graphql.
    if (Number.isNaN(next) || next === 63 || next === 35) return GRAPHQL_PATH;
  }
  return new URL(url).pathname;
}
