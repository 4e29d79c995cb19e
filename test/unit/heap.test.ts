import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config.ts';
import { DEFAULT_HEAP_GROWTH_PERCENT, heapGrowthPercent } from '../../server/heap.ts';
import { runScript } from '../server-process.ts';

/** HEAP_GROWTH_PERCENT: how far V8's old generation grows before it collects (server/heap.ts). */
describe('HEAP_GROWTH_PERCENT', () => {
  it('defaults to 150 and takes a whole number from 0 (V8 decides) to 300', () => {
    expect(heapGrowthPercent(undefined)).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(heapGrowthPercent('')).toBe(150);
    expect(heapGrowthPercent('0')).toBe(0);
    expect(heapGrowthPercent('250')).toBe(250);
  });

  it('refuses anything else with a configuration error naming the variable', () => {
    for (const value of ['-1', '301', '1.5', 'lots', '1e2x']) {
      expect(() => heapGrowthPercent(value)).toThrow(ConfigError);
      expect(() => heapGrowthPercent(value)).toThrow(`HEAP_GROWTH_PERCENT must be a whole number from 0 to 300, got "${value}"`);
    }
  });

  it('stops the server before it starts when the value is wrong', { timeout: 60_000 }, async () => {
    const result = await runScript('server/index.ts', { HEAP_GROWTH_PERCENT: 'lots', DATABASE_URL: 'sqlite::memory:', PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('configuration error: HEAP_GROWTH_PERCENT must be a whole number from 0 to 300, got "lots"');
  });
});
