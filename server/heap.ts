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
 * Applies the growth limit to this process. V8 reads the flag at every full collection, so setting
 * it once the process runs takes effect from the next one; every server process (each worker of
 * WORKERS > 1 too) calls this first.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
