/**
 * Rewrites server/db/migrations/<dialect>/index.ts to list every migration file in the folder,
 * oldest first. MikroORM gets the list statically so migrations load the same way under tsx,
 * vitest and the scripts, with no file discovery at run time.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const header: Record<string, string> = { sqlite: 'SQLite', postgresql: 'PostgreSQL' };

function migrationIndex(dialect: 'sqlite' | 'postgresql'): { path: string; text: string } {
  const folder = join('server/db/migrations', dialect);
  const names = readdirSync(folder)
    .filter((file) => /^Migration\d{14}_\w+\.ts$/.test(file))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
  const lines = [
    '// Written by scripts/write-migration-index.ts: do not edit by hand.',
    "import type { MigrationObject } from '@mikro-orm/core';",
    ...names.map((name) => `import { ${name} } from './${name}.ts';`),
    '',
    `/** Every ${header[dialect]} migration, oldest first. */`,
    `export const ${dialect}Migrations: MigrationObject[] = [`,
    ...names.map((name) => `  { name: '${name}', class: ${name} },`),
    '];',
    '',
  ];
  return { path: join(folder, 'index.ts'), text: lines.join('\n') };
}

export function writeMigrationIndex(dialect: 'sqlite' | 'postgresql'): void {
  const { path, text } = migrationIndex(dialect);
  writeFileSync(path, text);
}

/** True when the committed index lists exactly the migration files of its folder. */
export function migrationIndexIsCurrent(dialect: 'sqlite' | 'postgresql'): boolean {
  const { path, text } = migrationIndex(dialect);
  return readFileSync(path, 'utf8') === text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const dialect of ['sqlite', 'postgresql'] as const) {
    if (!process.argv.includes('--check')) writeMigrationIndex(dialect);
    else if (!migrationIndexIsCurrent(dialect)) {
      console.error(`server/db/migrations/${dialect}/index.ts is stale: run node --import tsx scripts/write-migration-index.ts`);
      process.exitCode = 1;
    }
  }
}
