#!/usr/bin/env node
// `npx promptgate …` (package.json "bin"): the admin CLI, server/cli/main.ts, run through tsx.
import { register } from 'tsx/esm/api';

// The CLI keeps no key cache of its own (its changes still reach every server's through PostgreSQL).
process.env.KEY_CACHE = 'off';
register();
const { main } = await import('../server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
