import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { serveStatic } from '../../server/http/static.ts';

// A console build in miniature: index.html and one hashed asset.
const root = mkdtempSync(join(tmpdir(), 'promptgate-static-'));
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
writeFileSync(join(tmpdir(), 'promptgate-static-outside.txt'), 'secret');
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(join(tmpdir(), 'promptgate-static-outside.txt'), { force: true });
});

const serve = serveStatic(root);
const get = (path: string, method = 'GET') => serve(new Request(`http://localhost${path}`, { method }));

describe('the console file handler', () => {
  test('answers / and client routes with index.html, never cached', async () => {
    for (const path of ['/', '/orgs/org_1/keys', '/sign-in']) {
      const response = (await get(path))!;
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await response.text()).toContain('<title>console</title>');
    }
  });

  test('answers hashed assets with their type, cached for good; a missing asset is 404', async () => {
    const asset = (await get('/assets/index-abc123.js'))!;
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log(1)');
    expect((await get('/assets/other.js'))!.status).toBe(404);
  });

  test('leaves GraphQL, /health, /ready, /metrics and other methods to the API', async () => {
    expect(await get('/graphql')).toBeUndefined();
    expect(await get('/graphql/stream')).toBeUndefined();
    expect(await get('/health')).toBeUndefined();
    expect(await get('/ready')).toBeUndefined();
    // Not served on the API's port (METRICS_PORT, or no metrics): a 404, not the console's page.
    expect(await get('/metrics')).toBeUndefined();
    expect(await get('/', 'POST')).toBeUndefined();
  });

  test('never reads outside its folder', async () => {
    for (const path of ['/../promptgate-static-outside.txt', '/%2e%2e/promptgate-static-outside.txt', '/assets/%2e%2e/%2e%2e/promptgate-static-outside.txt']) {
      const response = (await get(path))!;
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('secret');
    }
  });

  test('answers HEAD with the headers and no body', async () => {
    const response = (await get('/assets/index-abc123.js', 'HEAD'))!;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});
