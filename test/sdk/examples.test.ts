/**
 * The examples of sdk/README.md run as users run them (a separate Node.js process importing
 * '@promptgate/sdk') against the real server, and the README quotes them word for word.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, createApiKey, createPrompt, type World } from '../fixtures.ts';
import { startSdkServer, type SdkServer } from './server.ts';

const run = promisify(execFile);
let s: SdkServer;
let w: World;

beforeAll(async () => {
  s = await startSdkServer();
  w = await buildWorld(s.h);
});
afterAll(() => s.close());

/**
 * Runs an example with the given environment. The "@promptgate/source" condition resolves the
 * SDK to its source, as in the tests, so no build is needed first.
 */
async function example(file: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=@promptgate/source', '--import', 'tsx', `examples/${file}`, ...args], {
      env: { ...process.env, PROMPTGATE_URL: s.url, ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('examples/partner-app.ts', () => {
  it('runs the prompt with the key and prints the result', async () => {
    const key = await createApiKey(s.h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const result = await example('partner-app.ts', { PROMPTGATE_API_KEY: key.secret, PROMPT_ID: w.promptId }, ['a long text']);
    expect(result).toMatchObject({ code: 0, stdout: 'Summarize: a long text\n', stderr: '' });
  });

  it('handles a refusal: prints the reason and exits with 2', async () => {
    const key = await createApiKey(s.h, w.owner, w.organizationId, { promptIds: [] });
    const result = await example('partner-app.ts', { PROMPTGATE_API_KEY: key.secret, PROMPT_ID: w.promptId });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`Refused (NOT_GRANTED): API key ${key.id} is not granted prompt ${w.promptId}\n`);
  });

  it('runs a prompt with other variables from the JSON inputs in PROMPT_INPUTS', async () => {
    const greet = await createPrompt(s.h, w.owner, w.organizationId, { name: 'Greet', template: 'Hello {{name}}!' });
    const key = await createApiKey(s.h, w.owner, w.organizationId, { promptIds: [greet] });
    const result = await example('partner-app.ts', { PROMPTGATE_API_KEY: key.secret, PROMPT_ID: greet, PROMPT_INPUTS: '{"name": "Ada"}' });
    expect(result).toMatchObject({ code: 0, stdout: 'Hello Ada!\n', stderr: '' });
  });

  it('handles inputs the prompt refuses: prints why and exits with 5, no stack trace', async () => {
    const greet = await createPrompt(s.h, w.owner, w.organizationId, { name: 'Greet missing', template: 'Hello {{name}}!' });
    const key = await createApiKey(s.h, w.owner, w.organizationId, { promptIds: [greet] });
    const missing = await example('partner-app.ts', { PROMPTGATE_API_KEY: key.secret, PROMPT_ID: greet }, ['some text']);
    expect(missing).toMatchObject({ code: 5, stdout: '', stderr: 'Cannot run the prompt: inputs: missing variable "name"\n' });

    const notJson = await example('partner-app.ts', { PROMPTGATE_API_KEY: key.secret, PROMPT_ID: greet, PROMPT_INPUTS: '{name: Ada}' });
    expect(notJson).toMatchObject({ code: 5, stdout: '' });
    expect(notJson.stderr).toMatch(/^Cannot run the prompt: .+ JSON at position 1\n$/);
  });
});

describe('examples/dashboard.ts', () => {
  it('lists the keys available to a prompt and grants the prompt to a key that lacked it', async () => {
    const prompt = await createPrompt(s.h, w.owner, w.organizationId, { name: 'Integrate', template: 'x' });
    await createApiKey(s.h, w.owner, w.organizationId, { name: 'Everything' });
    const narrow = await createApiKey(s.h, w.owner, w.organizationId, { name: 'Narrow', promptIds: [w.promptId], flowIds: [w.flowId] });
    const env = { PROMPTGATE_TOKEN: w.owner.token, PROMPT_ID: prompt, API_KEY_ID: narrow.id };

    const first = await example('dashboard.ts', env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^Everything \(pgk_\w{8}…\) organization-wide\n/);
    expect(first.stdout).toContain('Narrow may now run Summarize, Integrate\n');

    const second = await example('dashboard.ts', env);
    expect(second.stdout).toMatch(/Narrow \(pgk_\w{8}…\) granted\n/);
    expect(second.stdout).not.toContain('may now run');
  });
});

describe.each(['sdk/README.md', 'README.md'])('%s', (path) => {
  it('quotes both examples exactly as they are in examples/', () => {
    const readme = readFileSync(path, 'utf8');
    for (const file of ['partner-app.ts', 'dashboard.ts']) {
      const source = readFileSync(`examples/${file}`, 'utf8');
      expect(readme, `${path} must quote examples/${file} in a \`\`\`ts block`).toContain('```ts\n' + source + '```');
    }
  });
});
