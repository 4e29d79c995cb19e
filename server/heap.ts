import { setFlagsFromString } from 'node:v8';
import { ConfigError } from './config.ts';

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it
 * collects again. Left to itself, V8 picks a factor of up to 4 when a process allocates fast, as a
 * server under load does: with about 45 MB live, a server held 280–300 MB of RSS after a load,
 * most of it garbage not yet collected. Each full collection costs CPU, and the lower the factor
 * the more of them: side by side with V8's own choice, 100 (a factor of 2) held at most ~210 MB
 * and cost a key request 0–10% more CPU, 150 held at most ~225 MB and cost about 5%
 * (bench/README.md, "Memory"). 0 leaves the choice to V8.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 150;

/** HEAP_GROWTH_PERCENT, checked: a whole number from 0 (V8's own heuristic) to 300. */
export function heapGrowthPercent(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_HEAP_GROWTH_PERCENT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 300) throw new ConfigError(`HEAP_GROWTH_PERCENT must be a whole number from 0 to 300, got "${value}"`);
  return n;
}

/**
 * Tunes this process's garbage collection for a server whose every request makes garbage that
 * should die young; every server process (each worker of WORKERS > 1 too) calls this first. V8
 * reads both flags at each collection, so setting them once the process runs takes effect from the
 * next one.
 * - The growth limit above (`--heap-growing-percent`), unless 0.
 * - No allocation-site pretenuring. V8 watches where objects are allocated and, once enough of a
 *   site's objects survive a young-generation collection, allocates that site's objects straight
 *   in the old generation. A request in flight when a collection runs survives it, so sites that
 *   allocate only a request's short-lived objects were judged long-lived, and from then on only
 *   full collections freed what they made. Measured over HTTP on key requests (checkAccess and
 *   viewer), with graphql/release-request.ts in place: 5.8% of what a request allocated reached
 *   the old generation with pretenuring and 0.4% without; 10 full collections against 3 in the
 *   same load (bench/README.md, "Garbage").
 */
export function tuneHeap(growthPercent: number): void {
  if (growthPercent > 0) setFlagsFromString(`--heap-growing-percent=${growthPercent}`);
  setFlagsFromString('--no-allocation-site-pretenuring');
}
