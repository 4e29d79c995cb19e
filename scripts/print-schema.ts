/** Prints the Pothos schema, sorted, to schema.graphql (or checks it with --check). */
import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../server/schema.ts';

const printed = `${printSchema(schema)}\n`;
if (process.argv.includes('--check')) {
  const committed = readFileSync('schema.graphql', 'utf8');
  if (committed !== printed) {
    console.error('schema.graphql differs from the Pothos schema: run `npm run generate` and commit the result');
    process.exit(1);
  }
  console.log('schema.graphql matches the Pothos schema');
} else {
  writeFileSync('schema.graphql', printed);
  console.log('wrote schema.graphql');
}
