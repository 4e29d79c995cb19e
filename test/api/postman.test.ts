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
  server = await startServerProcess(database.url);
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
}, 180_000);

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
