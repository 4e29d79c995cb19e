/**
 * A key's guardrails through the SDK: the dashboard sets and reads them, a partner app is refused
 * with typed errors that carry the reason (and, for quotas, when to retry).
 */
import { BadUserInputError, ForbiddenError, RateLimitedError, type PromptGateClient } from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../fixtures.ts';
import { startSdkServer, type SdkServer } from './server.ts';

let s: SdkServer;
let w: World;
let admin: PromptGateClient;

beforeAll(async () => {
  s = await startSdkServer();
  w = await buildWorld(s.h);
  admin = s.client({ token: w.admin.token });
});
afterAll(() => s.close());

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error,
  );
}

describe('key guardrails through the SDK', () => {
  it('creates a key with limits, replaces them with updateApiKeyLimits and reads the month’s usage', async () => {
    const issued = await admin.createApiKey({ organizationId: w.organizationId, name: 'Metered', monthlyRunQuota: 1, allowedCidrs: ['127.0.0.1/32'] });
    expect(issued.apiKey).toMatchObject({ rateLimitPerMinute: null, monthlyRunQuota: 1, monthlyTokenQuota: null, allowedCidrs: ['127.0.0.1/32'] });
    const partner = s.client({ apiKey: issued.secret, retry: false });
    expect((await partner.runPrompt({ promptId: w.promptId, inputs: { text: 'a' } })).status).toBe('SUCCEEDED');

    const exhausted = await refusal(partner.runPrompt({ promptId: w.promptId, inputs: { text: 'b' } }));
    expect(exhausted).toBeInstanceOf(RateLimitedError);
    expect(exhausted).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXHAUSTED', status: 429 });
    expect((exhausted as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);

    const usage = await admin.apiKeyQuotaUsage(issued.apiKey.id);
    expect(usage).toMatchObject({ id: issued.apiKey.id, monthlyRunQuota: 1, quotaUsage: { runs: 1, tokens: 0 } });

    const updated = await admin.updateApiKeyLimits({ apiKeyId: issued.apiKey.id, monthlyRunQuota: 5, rateLimitPerMinute: 100 });
    expect(updated).toMatchObject({ monthlyRunQuota: 5, rateLimitPerMinute: 100, allowedCidrs: [] });
    expect((await partner.runPrompt({ promptId: w.promptId, inputs: { text: 'c' } })).status).toBe('SUCCEEDED');
  });

  it('refuses a key from outside its networks with a ForbiddenError whose reason is IP_NOT_ALLOWED', async () => {
    const issued = await admin.createApiKey({ organizationId: w.organizationId, name: 'Office only', allowedCidrs: ['192.0.2.0/24'] });
    const error = await refusal(s.client({ apiKey: issued.secret, retry: false }).viewer());
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).reason).toBe('IP_NOT_ALLOWED');
  });

  it('reports a bad CIDR as a BadUserInputError naming the field', async () => {
    const error = await refusal(admin.createApiKey({ organizationId: w.organizationId, name: 'Typo', allowedCidrs: ['192.0.2.0/40'] }));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect((error as BadUserInputError).field).toBe('allowedCidrs');
  });
});
