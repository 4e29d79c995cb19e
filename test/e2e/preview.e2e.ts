/**
 * The preview of a permission change in Manage Permissions, in a real browser against a real
 * server on a fresh database: a key granted Summarize is used by two end users, the admin
 * switches it to Translate and sees what it gains, loses and the recent calls it would refuse,
 * saves, and the key is refused Summarize. A MEMBER never sees the preview; a failing preview
 * shows the server's code. Photographed and checked with axe-core.
 */
import { createClient, type PromptGateClient } from '@promptgate/sdk';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, screenshot, seriousViolations } from './browser.ts';
import { buildConsole, startServer, type RunningServer } from './server.ts';

const DEMO = { email: 'demo@promptgate.local', password: 'promptgate-demo' };

let server: RunningServer;
let browser: Browser;
let page: Page;
let owner: PromptGateClient;
let organizationId: string;
let summarizeId: string;
let translateId: string;
let keyId: string;
let secret: string;

async function capture(name: string, on: Page = page): Promise<void> {
  await screenshot(on, name);
  expect(await seriousViolations(on), `axe on ${name}`).toEqual([]);
}

async function signIn(on: Page, email: string, password: string): Promise<void> {
  await on.goto(server.origin + '/sign-in');
  await on.getByLabel('Email').fill(email);
  await on.getByLabel('Password').fill(password);
  await on.getByRole('button', { name: 'Sign in', exact: true }).click();
  await on.getByRole('heading', { level: 1, name: 'Prompts and flows' }).waitFor();
}

async function openPermissions(on: Page = page): Promise<void> {
  await on.goto(`${server.origin}/orgs/${organizationId}/keys/${keyId}/permissions`);
  await on.getByRole('heading', { level: 1, name: 'Manage permissions: Partner app' }).waitFor();
}

/** Runs a prompt over HTTP with the key's secret; answers the GraphQL error code, if any. */
async function runWithKey(promptId: string, endUserId: string): Promise<string | null> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({
      query: 'mutation ($input: RunPromptInput!) { runPrompt(input: $input) { status } }',
      variables: { input: { promptId, endUserId, inputs: { text: 'PromptGate' } } },
    }),
  });
  const body = (await response.json()) as { data?: { runPrompt: { status: string } | null }; errors?: { extensions?: { code?: string; reason?: string } }[] };
  if (body.errors?.length) return `${body.errors[0]!.extensions?.code}:${body.errors[0]!.extensions?.reason}`;
  expect(body.data?.runPrompt?.status).toBe('SUCCEEDED');
  return null;
}

beforeAll(async () => {
  buildConsole();
  server = await startServer();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();

  const { token } = await createClient({ url: server.graphqlUrl }).logIn(DEMO);
  owner = createClient({ url: server.graphqlUrl, token });
  organizationId = (await owner.viewer()).user!.memberships[0]!.organization.id;
  const prompts = await owner.prompts(organizationId);
  summarizeId = prompts.nodes.find((p) => p.name === 'Summarize')!.id;
  translateId = prompts.nodes.find((p) => p.name === 'Translate')!.id;
  const issued = await owner.createApiKey({ organizationId, name: 'Partner app', access: 'SPECIFIC', promptIds: [summarizeId] });
  keyId = issued.apiKey.id;
  secret = issued.secret;
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the preview of a permission change', () => {
  test('the key runs Summarize for two end users, three times', async () => {
    expect(await runWithKey(summarizeId, 'alice')).toBeNull();
    expect(await runWithKey(summarizeId, 'alice')).toBeNull();
    expect(await runWithKey(summarizeId, 'bob')).toBeNull();
    expect(await runWithKey(translateId, 'alice')).toBe('FORBIDDEN:NOT_GRANTED');
  });

  test('switching Summarize for Translate shows the gain, the loss and the calls it would refuse', async () => {
    await signIn(page, DEMO.email, DEMO.password);
    await openPermissions();
    const preview = page.getByTestId('permission-preview');
    await preview.getByText("Saving refuses none of the key's runs of the last 30 days.").waitFor();

    await page.getByRole('button', { name: 'Remove prompt Summarize' }).click();
    await page.getByRole('checkbox', { name: 'Translate' }).check();
    await preview.getByText('Saving would refuse 3 runs the key made in the last 30 days.').waitFor();
    expect(await preview.getByTestId('preview-gained').textContent()).toBe('Translate');
    expect(await preview.getByTestId('preview-lost').textContent()).toBe('Summarize');
    expect(await preview.getByTestId('refused-runs').getAttribute('class')).toContain('warning');
    const row = preview.getByRole('row', { name: /Summarize/ });
    expect(await row.getByRole('cell').allTextContents()).toEqual(['3', '2', expect.stringMatching(/\d/)]);
    await capture('preview-01-would-refuse');

    // The window is the admin's choice, by keyboard too.
    await page.getByLabel('Recent calls from the last').focus();
    await page.keyboard.press('ArrowUp');
    await preview.getByText('Saving would refuse 3 runs the key made in the last 7 days.').waitFor();

    // Putting Summarize back is no loss: the preview follows the selection.
    await page.getByRole('checkbox', { name: 'Summarize' }).check();
    await preview.getByText("Saving refuses none of the key's runs of the last 7 days.").waitFor();
    expect(await preview.getByTestId('preview-lost').textContent()).toBe('nothing');
    expect(await preview.getByTestId('refused-runs').getAttribute('class')).not.toContain('warning');
    await page.getByRole('button', { name: 'Remove prompt Summarize' }).click();
    await preview.getByText('Saving would refuse 3 runs the key made in the last 7 days.').waitFor();
  });

  test('an answer to an older selection is never shown, even when it arrives last', async () => {
    const preview = page.getByTestId('permission-preview');
    const asksWithSummarize = (request: Request) => {
      const body = request.postDataJSON() as { query?: string; variables?: { input?: { promptIds?: string[] } } } | null;
      return Boolean(body?.query?.includes('previewApiKeyPermissions') && body.variables?.input?.promptIds?.includes(summarizeId));
    };
    // The server's answer for "Summarize and Translate" is held back two seconds on its way to the page.
    await page.route('**/graphql', async (route) => {
      if (asksWithSummarize(route.request())) await new Promise((resolve) => setTimeout(resolve, 2000));
      await route.continue();
    });
    const slow = page.waitForResponse((response) => asksWithSummarize(response.request()));
    await page.getByRole('checkbox', { name: 'Summarize' }).check();
    await page.waitForRequest(asksWithSummarize);
    await page.getByRole('button', { name: 'Remove prompt Summarize' }).click();
    await preview.getByText('Saving would refuse 3 runs the key made in the last 7 days.').waitFor();
    await slow;
    await page.waitForTimeout(300);
    expect(await preview.getByTestId('refused-runs').textContent()).toBe('Saving would refuse 3 runs the key made in the last 7 days.');
    expect(await preview.getByTestId('preview-lost').textContent()).toBe('Summarize');
    await page.unrouteAll();
  });

  test("a flow's grant covers its steps: Summarize reached through the flow is no loss", async () => {
    const preview = page.getByTestId('permission-preview');
    await page.getByRole('button', { name: 'Flows', exact: true }).click();
    await page.getByRole('checkbox', { name: /Summarize, then translate/ }).check();
    await preview.getByText("Saving refuses none of the key's runs of the last 7 days.").waitFor();
    expect(await preview.getByTestId('preview-gained').textContent()).toBe('Translate, Summarize, then translate (flow)');
    expect(await preview.getByTestId('preview-lost').textContent()).toBe('nothing');
    await capture('preview-03-flow-covers');
    await page.getByRole('button', { name: 'Remove flow Summarize, then translate' }).click();
    await preview.getByText('Saving would refuse 3 runs the key made in the last 7 days.').waitFor();
  });

  test('saving applies the change at once: the key is refused Summarize and runs Translate', async () => {
    await page.getByRole('button', { name: 'Save permissions' }).click();
    await page.getByText(/Saved: “Partner app” is now limited/).waitFor();
    expect(await runWithKey(summarizeId, 'alice')).toBe('FORBIDDEN:NOT_GRANTED');
    expect(await runWithKey(translateId, 'alice')).not.toBe('FORBIDDEN:NOT_GRANTED');
  });

  test("a preview the server refuses shows its code and message: a revoked key's", async () => {
    await owner.revokeApiKey({ apiKeyId: keyId });
    await openPermissions();
    const alert = page.getByTestId('permission-preview').getByRole('alert');
    await alert.getByText('Could not preview the change').waitFor();
    await alert.getByText('CONFLICT').waitFor();
    expect(await alert.textContent()).toContain('is revoked');
    await capture('preview-02-error');
  });

  test('a MEMBER never sees the preview', async () => {
    const member = { email: 'mo@example.com', password: 'mo-password-1', name: 'Mo Member' };
    await createClient({ url: server.graphqlUrl }).signUp(member);
    await owner.addMember({ organizationId, email: member.email, role: 'MEMBER' });
    const memberPage = await (await browser.newContext()).newPage();
    await signIn(memberPage, member.email, member.password);
    await openPermissions(memberPage);
    await memberPage.getByText('Only admins and owners').first().waitFor();
    expect(await memberPage.getByTestId('permission-preview').count()).toBe(0);
    expect(await memberPage.getByText('Preview of the change').count()).toBe(0);
    await memberPage.context().close();
  });
});
