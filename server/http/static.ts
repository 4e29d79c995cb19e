/**
 * Serves the console (console/dist, built by Vite) at `/`. Only files of that folder are read;
 * a path with no file extension is a client route and gets index.html, so every screen of the
 * console has a URL that can be reloaded or shared. GraphQL and /health are never answered here.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Plugin } from 'graphql-yoga';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Paths the console never answers: the API's own (/metrics answers 404 where it is not served). */
const RESERVED = ['/graphql', '/health', '/ready', '/metrics', '/v1/'];

// Everything the page loads comes from this server (no CDN), so the policy can be this tight.
// Styles allow 'unsafe-inline' because the chart library sets style attributes.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export type StaticHandler = (request: Request) => Promise<Response | undefined>;

/**
 * A handler answering GET and HEAD for the files under `root`, or undefined when the request is
 * not the console's (so the API answers it).
 */
export function serveStatic(root: string): StaticHandler {
  const base = normalize(root + sep);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const { pathname } = new URL(request.url);
    if (RESERVED.some((prefix) => pathname === prefix || pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))) {
      return undefined;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return new Response('Bad path', { status: 400 });
    }
    const file = normalize(join(base, decoded));
    // A path that climbs out of the folder (../) is not the console's.
    if (!file.startsWith(base)) return new Response('Not found', { status: 404 });

    const extension = extname(file);
    const isRoute = extension === '' || pathname.endsWith('/');
    const path = isRoute ? join(base, 'index.html') : file;
    const body = await readIfFile(path);
    if (body === undefined) {
      return isRoute ? undefined : new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    // Vite names what it emits under assets/ after a hash of the content: cache it for good.
    // index.html must be asked for again so that a new build is picked up at once.
    const hashed = decoded.startsWith('/assets/');
    const headers = {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-length': String(body.byteLength),
      ...SECURITY_HEADERS,
    };
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  };
}

async function readIfFile(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    // readFile's Buffer sits on a plain ArrayBuffer (never a shared one), as a Response body wants.
    return (await readFile(path)) as Uint8Array<ArrayBuffer>;
  } catch {
    return undefined;
  }
}

/** The yoga plugin: the console's files are answered before yoga looks at the request. */
export function useStaticFiles(root: string): Plugin {
  const handle = serveStatic(root);
  return {
    // Not async: the API's POSTs pass straight through, without a promise to wait on.
    onRequest({ request, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      return handle(request).then((response) => {
        if (response) endResponse(response);
      });
    },
  };
}
