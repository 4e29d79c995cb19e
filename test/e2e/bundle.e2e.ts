/**
 * The console's first load stays small: the JavaScript that index.html loads (its entry script
 * and the modules it preloads) is at most 250 KB gzipped. Screens loaded later (the usage
 * charts) do not count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, expect, test } from 'vitest';
import { buildConsole } from './server.ts';

const dist = fileURLToPath(new URL('../../console/dist', import.meta.url));
const BUDGET = 250 * 1024;

beforeAll(() => buildConsole());

test('the first load is at most 250 KB of JavaScript, gzipped', () => {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)].map((m) => m[1]!);
  expect(scripts.length).toBeGreaterThan(0);
  const sizes = scripts.map((src) => ({ src, gzipped: gzipSync(readFileSync(join(dist, src))).byteLength }));
  const total = sizes.reduce((sum, s) => sum + s.gzipped, 0);
  console.log(`first load: ${(total / 1024).toFixed(1)} KB of JavaScript gzipped (${sizes.map((s) => `${s.src} ${(s.gzipped / 1024).toFixed(1)} KB`).join(', ')})`);
  expect(total).toBeLessThanOrEqual(BUDGET);
});
