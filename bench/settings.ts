/** The bench's settings from the environment: each a whole number within its bounds, or an error naming it. */
export function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

/** BENCH_STORES: the stores a bench runs on, in order (sqlite, postgres), or an error naming it. */
export function storesSetting(fallback: string): ('sqlite' | 'postgres')[] {
  const stores = (process.env.BENCH_STORES || fallback).split(',').map((store) => store.trim());
  for (const store of stores) if (store !== 'sqlite' && store !== 'postgres') throw new Error('BENCH_STORES lists sqlite and/or postgres');
  return stores as ('sqlite' | 'postgres')[];
}

/** BENCH_DATABASE_URL: the PostgreSQL server on which the benches make their scratch databases. */
export const postgresUrlSetting = () => process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
