import { ConfigError } from '../config.ts';

/**
 * Which web pages on other origins may call PromptGate from a browser: those listed in
 * CORS_ORIGINS (comma-separated, e.g. `https://console.example.com,http://localhost:5173`), none by
 * default. Credentials travel in the Authorization header, which a page can only send when its
 * origin is listed; no cookie is ever read, so no listed origin needs `credentials: include`.
 */
export function parseCorsOrigins(value: string | undefined): string[] {
  if (!value?.trim()) return [];
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // An origin is a scheme, a host and maybe a port: nothing after it, and never "*".
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin such as https://console.example.com (scheme, host, optional port, no path)`);
    }
    return origin;
  });
}

/** Yoga's `cors` option for these origins: false (no CORS headers at all) when none is listed. */
export function corsOptions(origins: readonly string[]) {
  if (origins.length === 0) return false as const;
  return {
    origin: [...origins],
    credentials: false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'x-request-id', 'apollo-require-preflight', 'x-graphql-yoga-csrf'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  };
}
