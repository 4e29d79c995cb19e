/**
 * GraphiQL's page (http/graphiql-page.ts): ~9 MB of inline HTML, rendered once per process, sent
 * compressed with an ETag, and a revalidation answered 304 with no body. Through the app, and
 * once through a real server with Node's fetch (which decompresses as a browser does).
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const page = (headers: Record<string, string>) => h.app.fetch('http://localhost/graphql', { headers: { accept: 'text/html', ...headers } });

describe('GET /graphql as a page', () => {
  it('sends the same page as Brotli, gzip or plain, by Accept-Encoding, with an ETag and no-cache', async () => {
    const plain = await page({ 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const html = Buffer.from(await plain.arrayBuffer());
    expect(html.toString('utf8')).toMatch(/^\s*<!doctype html>/i);
    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('vary')).toBe('Accept, Accept-Encoding');

    const br = await page({ 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    const brBytes = Buffer.from(await br.arrayBuffer());
    expect(brotliDecompressSync(brBytes).equals(html)).toBe(true);
    expect(br.headers.get('etag')).toBe(etag);

    const gzip = await page({ 'accept-encoding': 'gzip, br;q=0' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    const gzBytes = Buffer.from(await gzip.arrayBuffer());
    expect(gunzipSync(gzBytes).equals(html)).toBe(true);

    console.info(`GraphiQL page: ${html.length} bytes plain, ${gzBytes.length} gzip, ${brBytes.length} Brotli`);
    expect(brBytes.length).toBeLessThan(html.length / 3);
    expect(gzBytes.length).toBeLessThan(html.length / 2);
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
