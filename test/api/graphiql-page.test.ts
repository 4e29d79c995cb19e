/**
 * GraphiQL's page (http/graphiql-page.ts, http/graphiql-split.ts): the ~9 MB self-contained page is
 * rendered once per process and split into a small HTML shell (no-cache, ETag) and its scripts,
 * style and icon as content-hashed files under /graphql/assets, cached for a year, compressed by
 * Accept-Encoding. The shell through the app; the files through a real server process over HTTP
 * (raw bytes with node:http, so the compressed bodies themselves are checked).
 */
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_OPTIONS } from '../../server/yoga.ts';
import { startHarness, type Harness } from '../harness.ts';
import { startServerProcess, type ServerProcess } from '../server-process.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const page = (headers: Record<string, string>) => h.app.fetch('http://localhost/graphql', { headers: { accept: 'text/html', ...headers } });

/** The page as @graphql-yoga/render-graphiql renders it, everything inline (what was sent before). */
const wholePage = () => renderGraphiQL(GRAPHIQL_OPTIONS);
const INLINE_BODIES = /<(script|style)\b[^>]*>([\s\S]*?)<\/\1>/gi;
const ASSET_URL = /(?:src|href)="(\/graphql\/assets\/[^"]+)"/g;

describe('GET /graphql as a page', () => {
  it('sends a small shell (< 50 KB) as Brotli, gzip or plain, by Accept-Encoding, with an ETag and no-cache', async () => {
    const plain = await page({ 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = Buffer.from(await plain.arrayBuffer());
    const text = html.toString('utf8');
    expect(text).toMatch(/^\s*<!doctype html>/i);
    expect(html.length).toBeLessThan(50_000);
    // Nothing inline is left but tags: no script or style body, no data URL.
    expect([...text.matchAll(INLINE_BODIES)].filter((m) => m[2]!.trim() !== '')).toEqual([]);
    expect(text).not.toContain('data:');
    expect(text).toMatch(/<script src="\/graphql\/assets\/[0-9a-f]{16}\.js"><\/script>/);
    expect(text).toMatch(/<link rel="stylesheet" href="\/graphql\/assets\/[0-9a-f]{16}\.css">/);
    expect(text).toMatch(/<link rel="icon" href="\/graphql\/assets\/[0-9a-f]{16}\.ico" \/>/);
    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('vary')).toBe('Accept, Accept-Encoding');

    const br = await page({ 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).equals(html)).toBe(true);
    expect(br.headers.get('etag')).toBe(etag);

    const gzip = await page({ 'accept-encoding': 'gzip, br;q=0' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gzip.arrayBuffer())).equals(html)).toBe(true);
  });

  it('answers a revalidation with the ETag 304 and no body; another ETag gets the page', async () => {
    const first = await page({ 'accept-encoding': 'br' });
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await page({ 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const weak = await page({ 'if-none-match': `"other", W/${etag}` });
    expect(weak.status).toBe(304);
    const stale = await page({ 'if-none-match': '"stale"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  it('leaves GraphQL over GET alone: a query without Accept: text/html is answered as JSON', async () => {
    const response = await h.app.fetch('http://localhost/graphql?query=%7B__typename%7D', { headers: { accept: 'application/json' } });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request over real HTTP, the body as sent (node:http does not decompress). */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const CONTENT_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', ico: 'image/x-icon' };

describe('GraphiQL files under /graphql/assets, through a real server', () => {
  let server: ServerProcess;
  let assetUrls: string[];

  beforeAll(async () => {
    const databaseUrl = h.dialect === 'postgresql' ? h.orm.config.get('clientUrl')! : `sqlite:${h.orm.config.get('dbName')}`;
    server = await startServerProcess(databaseUrl, { WORKERS: '1' });
    const shell = await raw(`${server.url}/graphql`, { accept: 'text/html', 'accept-encoding': 'identity' });
    expect(shell.status).toBe(200);
    assetUrls = [...shell.body.toString('utf8').matchAll(ASSET_URL)].map((m) => m[1]!);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('serves every file the shell references: immutable for a year, an ETag, its content type, Brotli and gzip', async () => {
    expect(assetUrls.map((url) => url.split('.').pop()).sort()).toEqual(['css', 'ico', 'js']);
    const sizes: string[] = [];
    for (const url of assetUrls) {
      const ext = url.split('.').pop()!;
      const plain = await raw(`${server.url}${url}`, { 'accept-encoding': 'identity' });
      expect(plain.status).toBe(200);
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(plain.headers['content-type']).toBe(CONTENT_TYPES[ext]);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      expect(plain.headers.etag).toMatch(/^"[\w-]{27}"$/);
      expect(Number(plain.headers['content-length'])).toBe(plain.body.length);

      const br = await raw(`${server.url}${url}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(br.status).toBe(200);
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(br.headers.etag).toBe(plain.headers.etag);
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);

      const gzip = await raw(`${server.url}${url}`, { 'accept-encoding': 'gzip' });
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
      // The script shrinks most; the style inlines its (already compressed) fonts, the icon its PNGs.
      if (ext !== 'ico') expect(br.body.length).toBeLessThan(gzip.body.length);
      if (ext !== 'ico') expect(gzip.body.length).toBeLessThan(plain.body.length);
      if (ext === 'js') expect(br.body.length).toBeLessThan(plain.body.length / 3);
      sizes.push(`${url}: ${plain.body.length} plain, ${gzip.body.length} gzip, ${br.body.length} Brotli`);
    }
    console.info(`GraphiQL files:\n${sizes.join('\n')}`);
  });

  it('holds exactly what the old page inlined: its scripts and style byte for byte, and its icon', async () => {
    const old = wholePage();
    const inline = [...old.matchAll(INLINE_BODIES)].map((m) => m[2]!).filter((body) => body.trim() !== '');
    const files = await Promise.all(assetUrls.map(async (url) => ({ url, body: (await raw(`${server.url}${url}`)).body })));
    const code = files.filter((f) => !f.url.endsWith('.ico'));
    expect(code.reduce((sum, f) => sum + f.body.length, 0)).toBe(inline.reduce((sum, body) => sum + Buffer.byteLength(body), 0));
    expect(code.map((f) => f.body.toString('utf8')).sort()).toEqual([...inline].sort());
    const icon = files.find((f) => f.url.endsWith('.ico'))!;
    expect(old).toContain(`href="data:image/x-icon;base64,${icon.body.toString('base64')}"`);
  });

  it('answers a revalidation 304 with no body, HEAD with the headers alone', async () => {
    const url = `${server.url}${assetUrls.find((u) => u.endsWith('.js'))!}`;
    const first = await raw(url, { 'accept-encoding': 'br' });
    const etag = first.headers.etag!;
    const again = await raw(url, { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(again.body.length).toBe(0);
    expect((await raw(url, { 'if-none-match': '"stale"' })).status).toBe(200);

    const head = await raw(url, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.headers['content-length']).toBe(String(first.body.length));
    expect(head.body.length).toBe(0);
  });

  it('refuses an unknown name with 404 and any method but GET or HEAD with 405', async () => {
    const real = assetUrls.find((u) => u.endsWith('.js'))!;
    for (const unknown of ['/graphql/assets/0000000000000000.js', real.replace(/\.js$/, '.css'), '/graphql/assets/', '/graphql/assets/../yoga.ts']) {
      const response = await raw(`${server.url}${unknown}`);
      expect(response.status, unknown).toBe(404);
    }
    const post = await raw(`${server.url}${real}`, { 'content-type': 'application/json' }, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});
