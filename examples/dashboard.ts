/**
 * The dashboard's Integrate tab and Manage Permissions panel: list the keys that may run a
 * prompt, then grant the prompt to a key that may not.
 *
 *   PROMPTGATE_URL=http://localhost:4000/graphql PROMPTGATE_TOKEN=pgs_… PROMPT_ID=prm_… API_KEY_ID=key_… \
 *     node --conditions=@promptgate/source --import tsx examples/dashboard.ts
 *
 * (In this repository `--conditions=@promptgate/source` runs the SDK from its source; after
 * `npm run build:sdk`, or in an app that installed the package, plain `node` does.)
 */
import { createClient } from '@promptgate/sdk';

const client = createClient({
  url: process.env.PROMPTGATE_URL ?? 'http://localhost:4000/graphql',
  token: process.env.PROMPTGATE_TOKEN ?? '', // a session token from logIn
});
const promptId = process.env.PROMPT_ID ?? '';
const apiKeyId = process.env.API_KEY_ID ?? '';

// Every active key that may run the prompt, all pages fetched.
const available = await client.availableApiKeys({ promptId });
for (const key of available) {
  console.log(`${key.name} (${key.prefix}…) ${key.access === 'ORGANIZATION' ? 'organization-wide' : 'granted'}`);
}

// Add the prompt to the key's grants, keeping the prompts and flows it already has.
const key = await client.apiKey(apiKeyId);
if (key && !available.some((k) => k.id === key.id)) {
  const updated = await client.updateApiKeyPermissions({
    apiKeyId: key.id,
    access: 'SPECIFIC',
    promptIds: [...key.prompts.map((p) => p.id), promptId],
    flowIds: key.flows.map((f) => f.id),
  });
  console.log(`${updated.name} may now run ${updated.prompts.map((p) => p.name).join(', ')}`);
}
