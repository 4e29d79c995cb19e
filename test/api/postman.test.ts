import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { print } from 'graphql';
import newman, { type NewmanRunSummary } from 'newman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateApiKeyDocument,
  CreateFlowDocument,
  CreateOrganizationDocument,
  CreatePromptDocument,
  SignUpDocument,
} from '../../sdk/__generated__/graphql.ts';
import { TEST_PASSWORD } from '../fixtures.ts';
import { dataOf } from '../harness.ts';
import { ROOT, scratchDatabase, startServerProcess, type ServerProcess } from '../server-process.ts';

/**
 * The Postman collection under postman/, run by newman against a real server on a fresh store: an
 * organization whose SPECIFIC key is granted one prompt of two (and a flow of the granted one).
 * This is the check Promptitude's docs tell teams to make of a key; CI makes it on both stores.
 * The README's curl examples run against the same server, so they cannot go stale.
 */

const collection = JSON.parse(readFileSync(join(ROOT, 'postman/promptgate.postman_collection.json'), 'utf8'));
const environment = JSON.parse(readFileSync(join(ROOT, 'postman/promptgate.postman_environment.json'), 'utf8'));

let server: ServerProcess;
let database: Awaited<ReturnType<typeof scratchDatabase>>;
let seeded: { grantedPromptId: string; otherPromptId: string; flowId: string; specificKey: string; organizationKey: string };

async function op(document: Parameters<typeof print>[0], variables: Record<string, unknown>, token?: string) {
  return dataOf(await server.gql(print(document), variables, token)) as Record<string, any>;
}

beforeAll(async () => {
  database = await scratchDatabase();
  // A fresh store is migrated on start: on a busy machine that takes a while.
  server = await startServerProcess(database.url, {}, 180_000);
  const { signUp } = await op(SignUpDocument, { input: { email: `postman-${Date.now()}@example.com`, password: TEST_PASSWORD, name: 'Postman' } });
  const token = signUp.token as string;
  const organizationId = (await op(CreateOrganizationDocument, { input: { name: 'Postman Co' } }, token)).createOrganization.id;
  const prompt = async (name: string) => (await op(CreatePromptDocument, { input: { organizationId, name, template: `${name}: {{text}}` } }, token)).createPrompt.id as string;
  const grantedPromptId = await prompt('Granted');
  const otherPromptId = await prompt('Other');
  const flowId = (await op(CreateFlowDocument, { input: { organizationId, name: 'Granted flow', steps: [{ promptId: grantedPromptId }] } }, token)).createFlow.id as string;
  const key = async (input: Record<string, unknown>) => (await op(CreateApiKeyDocument, { input: { organizationId, ...input } }, token)).createApiKey.secret as string;
  const specificKey = await key({ name: 'Partner app', access: 'SPECIFIC', promptIds: [grantedPromptId], flowIds: [flowId] });
  const organizationKey = await key({ name: 'Everything', access: 'ORGANIZATION' });
  seeded = { grantedPromptId, otherPromptId, flowId, specificKey, organizationKey };
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

/** The environment file with the seeded values in place of its empty ones. */
function environmentWith(values: Record<string, string>) {
  return { ...environment, values: environment.values.map((entry: { key: string }) => (entry.key in values ? { ...entry, value: values[entry.key] } : entry)) };
}

function runCollection(values: Record<string, string>, folder?: string): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) =>
    newman.run({ collection, environment: environmentWith({ baseUrl: server.url, ...values }), reporters: [], timeoutRequest: 30_000, ...(folder ? { folder } : {}) }, (error, summary) =>
      error ? reject(error) : resolve(summary),
    ),
  );
}

const failuresOf = (summary: NewmanRunSummary) => summary.run.failures.map((f) => `${f.source?.name}: ${f.error.test ?? f.error.name}: ${f.error.message}`);

describe('the Postman collection, run by newman', () => {
  it('passes every assertion against a fresh server with a key granted one prompt of two', async () => {
    const summary = await runCollection({
      apiKey: seeded.specificKey,
      grantedPromptId: seeded.grantedPromptId,
      otherPromptId: seeded.otherPromptId,
      flowId: seeded.flowId,
    });
    expect(failuresOf(summary)).toEqual([]);
    // Every request of both folders ran and every one of them asserted something.
    expect(summary.run.stats.requests.total).toBe(7);
    expect(summary.run.stats.assertions.total).toBeGreaterThanOrEqual(11);
    expect(summary.run.stats.assertions.failed).toBe(0);
  });

  it('fails "verify permissions" for a key that may run both prompts', async () => {
    const summary = await runCollection(
      { apiKey: seeded.organizationKey, grantedPromptId: seeded.grantedPromptId, otherPromptId: seeded.otherPromptId },
      'verify permissions',
    );
    expect(failuresOf(summary)).toEqual([expect.stringContaining('The key is refused the other prompt: answers 403 FORBIDDEN, NOT_GRANTED')]);
  });
});

/** The ```sh blocks of README.md's "Coming from Promptitude", in order. */
function readmeCurlBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Coming from Promptitude');
  expect(start, 'README.md has a "Coming from Promptitude" section').toBeGreaterThanOrEqual(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

function bash(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('README "Coming from Promptitude"', () => {
  it('runs each curl example as written, each answered 200 in the envelope', async () => {
    const blocks = readmeCurlBlocks();
    expect(blocks).toHaveLength(3);
    const env = { PROMPTGATE_URL: server.url, PROMPTGATE_KEY: seeded.specificKey, PROMPT_ID: seeded.grantedPromptId, FLOW_ID: seeded.flowId, LOG_ID: '' };
    for (const block of blocks) {
      const answer = JSON.parse(await bash(block, env));
      expect(answer, block).toMatchObject({ code: 200, message: 'OK', error: null });
      // The rate example rates the run the first example made.
      if (answer.results.status) env.LOG_ID ||= answer.results.logId;
    }
  });
});
