/**
 * Rewrites server/db/migrations/<dialect>/index.ts to list every migration file in the folder,
 * oldest first. MikroORM gets the list statically so migrations load the same way under tsx,
 * vitest and the scripts, with no file discovery at run time.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const header: Record<string, string> = { sqlite: 'SQLite', postgresql: 'PostgreSQL' };

export function writeMigrationIndex(dialect: 'sqlite' | 'postgresql'): void {
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
  writeFileSync(join(folder, 'index.ts'), lines.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeMigrationIndex('sqlite');
  writeMigrationIndex('postgresql');
}
