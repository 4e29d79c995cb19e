import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvFile } from '../../server/env-file.ts';

/** .env loading, and .env.example as the list of every variable PromptGate reads. */

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('.env', () => {
  it('is read when present, and never replaces a variable the environment already sets', () => {
    const path = join(tmpdir(), `promptgate-env-${process.pid}`);
    writeFileSync(path, 'PROMPTGATE_ENV_TEST_NEW=from-file\nPROMPTGATE_ENV_TEST_SET=from-file\n');
    process.env.PROMPTGATE_ENV_TEST_SET = 'from-environment';
    try {
      loadEnvFile(path);
      expect(process.env.PROMPTGATE_ENV_TEST_NEW).toBe('from-file');
      expect(process.env.PROMPTGATE_ENV_TEST_SET).toBe('from-environment');
      expect(() => loadEnvFile(`${path}-absent`)).not.toThrow();
    } finally {
      rmSync(path, { force: true });
      delete process.env.PROMPTGATE_ENV_TEST_NEW;
      delete process.env.PROMPTGATE_ENV_TEST_SET;
    }
  });

  it('.env.example names every variable the server and its scripts read', () => {
    const read = new Set(
      [...sourceFiles('server'), ...sourceFiles('scripts')].flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!)),
    );
    const example = readFileSync('.env.example', 'utf8');
    expect([...read].filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([]);
    expect(read.size).toBeGreaterThan(10);
  });
});
