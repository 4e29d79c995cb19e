/**
 * The console in a real browser against a real server on a fresh database: the owner restricts
 * a key, the Integrate tabs follow the server's access rule, the secret is let in or refused,
 * the key is widened, rotated and revoked, and a MEMBER sees no key management. Every screen
 * is photographed and checked with axe-core.
 */
import { createClient, ForbiddenError, UnauthenticatedError } from '@promptgate/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, screenshot, seriousViolations } from './browser.ts';
import { buildConsole, startServer, type RunningServer } from './server.ts';

const DEMO = { email: 'demo@promptgate.local', password: 'promptgate-demo' };

let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let organizationId: string;
let summarizeId: string;
let translateId: string;
let flowId: string;
let secret: string;

/** Screenshot and accessibility check of the screen as it is now. */
async function capture(name: string, on: Page = page): Promise<void> {
  await screenshot(on, name);
  expect(await seriousViolations(on), `axe on ${name}`).toEqual([]);
}

/** Opens a path and waits for its main heading. */
async function open(path: string, heading: string | RegExp, on: Page = page): Promise<void> {
  await on.goto(server.origin + path);
  await on.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** The keys the Integrate tab shows, once its list has loaded. */
async function integrateKeys(promptId: string): Promise<string[]> {
  await open(`/orgs/${organizationId}/prompts/${promptId}/integrate`, /.+/);
  await page.getByText(/\d+ of \d+ keys/).waitFor();
  return page.getByTestId('available-key').locator('strong').allTextContents();
}

beforeAll(async () => {
  buildConsole();
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  page = await context.newPage();

  // The ids the test navigates to, read the way any dashboard would: through the SDK.
  const anonymous = createClient({ url: server.graphqlUrl });
  const { token } = await anonymous.logIn(DEMO);
  const owner = createClient({ url: server.graphqlUrl, token });
  const viewer = await owner.viewer();
  organizationId = viewer.user!.memberships[0]!.organization.id;
  const prompts = await owner.prompts(organizationId);
  summarizeId = prompts.nodes.find((p) => p.name === 'Summarize')!.id;
  translateId = prompts.nodes.find((p) => p.name === 'Translate')!.id;
  flowId = (await owner.flows(organizationId)).nodes[0]!.id;
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the console', () => {
  test('serves the app at / and client routes, GraphQL at /graphql, with the right headers', async () => {
    const index = await fetch(`${server.origin}/orgs/x/keys`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(server.origin + script!);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.origin}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.origin}/%2e%2e/package.json`)).status).toBe(404);
    // Nothing is fetched from elsewhere: every script and style is the server's own.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const graphql = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { user { id } } }"}' });
    expect(await graphql.json()).toEqual({ data: { viewer: { user: null } } });
  });

  test('sign in as the demo owner with the credentials the sign-in screen shows', async () => {
    await page.goto(server.origin + '/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(page.url()).toContain('/sign-in');
    if (server.dialect === 'sqlite') {
      // The server answers demoSignIn on this fresh embedded database, so the hint is shown.
      await page.getByRole('heading', { name: 'Trying PromptGate?' }).waitFor();
      await page.getByText(DEMO.email).waitFor();
      await capture('01-sign-in');
      await page.getByRole('button', { name: 'Fill in the demo account' }).click();
    } else {
      // On PostgreSQL (a production store) demoSignIn answers null: no credentials on the screen,
      // though the seeded demo owner exists and is typed in as any user would.
      await page.getByLabel('Email').waitFor();
      expect(await page.getByRole('heading', { name: 'Trying PromptGate?' }).count()).toBe(0);
      expect(await page.getByText(DEMO.password).count()).toBe(0);
      await capture('01-sign-in');
      await page.getByLabel('Email').fill(DEMO.email);
      await page.getByLabel('Password').fill(DEMO.password);
    }
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Prompts and flows' }).waitFor();
    await page.getByRole('link', { name: 'Summarize', exact: true }).waitFor();
    await capture('02-prompts-and-flows');

    // The server searches: only the matching prompt is listed, with the number of matches.
    await page.getByLabel('Search prompts and flows by name').fill('TRANSL');
    await page.getByText('1 of 1 prompts matching “TRANSL”').waitFor();
    expect(await page.getByRole('link', { name: 'Summarize', exact: true }).count()).toBe(0);
    await page.getByRole('link', { name: 'Translate', exact: true }).waitFor();
    await capture('02-prompts-search');
  });

  test('a wrong password shows the server code and message', async () => {
    const other = await context.browser()!.newContext();
    const p = await other.newPage();
    await p.goto(server.origin + '/sign-in');
    await p.getByLabel('Email').fill(DEMO.email);
    await p.getByLabel('Password').fill('not the password');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('alert').getByText('UNAUTHENTICATED').waitFor();
    await capture('03-sign-in-error', p);
    await other.close();
  });

  test('create a SPECIFIC key for one prompt and copy its secret, shown once', async () => {
    await open(`/orgs/${organizationId}/keys`, 'API keys');
    await page.getByRole('link', { name: 'New API key' }).click();
    await page.getByRole('heading', { level: 1, name: 'New API key' }).waitFor();
    await page.getByLabel('Name').fill('Partner app');
    await page.getByLabel('Specific prompts and flows').check();
    await page.getByRole('checkbox', { name: 'Summarize' }).check();
    await capture('04-create-key');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'API key created' }).waitFor();
    await page.getByText('this is the only time it is shown').waitFor();
    await capture('05-secret-shown-once');
    const shown = await page.getByTestId('secret').inputValue();
    expect(shown).toMatch(/^pgk_/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied.').waitFor();
    secret = await page.evaluate(() => navigator.clipboard.readText());
    expect(secret).toBe(shown);
  });

  test("the granted prompt's Integrate tab lists the key; another prompt's does not", async () => {
    expect(await integrateKeys(summarizeId)).toContain('Partner app');
    await page.getByRole('button', { name: /Show snippets for Partner app/ }).click();
    const snippet = await page.locator('.snippets pre').textContent();
    expect(snippet).toContain(secret.slice(0, 12));
    expect(snippet).not.toContain(secret);
    await page.getByText('Keys without permission to run this prompt are not listed').waitFor();
    await capture('06-integrate-granted');
    expect(await integrateKeys(translateId)).not.toContain('Partner app');
    await capture('07-integrate-not-granted');
  });

  test('the secret runs the granted prompt and is refused on the other', async () => {
    const partner = createClient({ url: server.graphqlUrl, apiKey: secret });
    const run = await partner.runPrompt({ promptId: summarizeId, inputs: { text: 'PromptGate' } });
    expect(run.status).toBe('SUCCEEDED');
    const refused = await partner.runPrompt({ promptId: translateId, inputs: { text: 'x', language: 'fr' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as ForbiddenError).reason).toBe('NOT_GRANTED');
  });

  test('Manage Permissions switches the key to organization-wide; the other Integrate tab lists it', async () => {
    await open(`/orgs/${organizationId}/keys`, 'API keys');
    await page.getByTestId('key-Partner app').getByRole('link', { name: 'Manage permissions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Manage permissions: Partner app' }).waitFor();
    await page.getByRole('button', { name: 'Remove prompt Summarize' }).waitFor();
    await capture('08-manage-permissions');
    await page.getByLabel(/Organization-wide/).check();
    await page.getByText('The key will reach every prompt and flow').waitFor();
    await page.getByRole('button', { name: 'Save permissions' }).click();
    await page.getByText(/Saved: “Partner app” is now organization-wide/).waitFor();
    expect(await integrateKeys(translateId)).toContain('Partner app');
  });

  test('rotate shows the new secret once; revoke asks, naming the key, and ends it', async () => {
    await open(`/orgs/${organizationId}/keys`, 'API keys');
    await page.getByTestId('key-Partner app').getByRole('button', { name: /^Rotate/ }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate “Partner app”' });
    await rotate.getByLabel('Grace period for the old secret').selectOption('0');
    await capture('09-rotate');
    await rotate.getByRole('button', { name: 'Rotate Partner app' }).click();
    const rotated = await rotate.getByTestId('secret').inputValue();
    expect(rotated).toMatch(/^pgk_/);
    expect(rotated).not.toBe(secret);
    await capture('10-rotated-secret');
    await rotate.getByRole('button', { name: 'Done' }).click();

    const before = createClient({ url: server.graphqlUrl, apiKey: secret });
    expect(await before.runPrompt({ promptId: translateId, inputs: { text: 'x', language: 'fr' } }).catch((e: unknown) => e)).toBeInstanceOf(UnauthenticatedError);
    const after = createClient({ url: server.graphqlUrl, apiKey: rotated });
    expect((await after.runPrompt({ promptId: translateId, inputs: { text: 'x', language: 'fr' } })).status).toBe('SUCCEEDED');

    await page.getByTestId('key-Partner app').getByRole('button', { name: /^Revoke/ }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke “Partner app”?' });
    await revoke.getByText('cannot be undone').waitFor();
    await capture('11-revoke-confirmation');
    await revoke.getByRole('button', { name: 'Revoke Partner app' }).click();
    await page.getByTestId('key-Partner app').getByText('revoked').waitFor();
    await capture('12-api-keys');
    expect(await after.runPrompt({ promptId: summarizeId, inputs: { text: 'x' } }).catch((e: unknown) => e)).toBeInstanceOf(UnauthenticatedError);
  });

  test('the other screens: prompt, flow, usage, audit log, members', async () => {
    await open(`/orgs/${organizationId}/prompts/${summarizeId}`, 'Summarize');
    await page.getByLabel('text').fill('A long text');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByText('SUCCEEDED').waitFor();
    await capture('13-prompt-try-it');

    await open(`/orgs/${organizationId}/flows/${flowId}`, 'Summarize, then translate');
    await capture('14-flow');
    await open(`/orgs/${organizationId}/flows/${flowId}/integrate`, 'Summarize, then translate');
    await page.getByText(/\d+ of \d+ keys/).waitFor();
    await page.getByText('Keys without permission to run this flow are not listed').waitFor();
    await capture('14-flow-integrate');

    await open(`/orgs/${organizationId}/keys`, 'API keys');
    // The key's runs of the last 14 days, as a sparkline in its row (it ran twice today).
    await page.getByTestId('key-Partner app').getByRole('img', { name: /^Runs per day of Partner app: [1-9]\d* runs over the last 14 days/ }).waitFor();
    await page.getByLabel('Search keys by name').fill('partner');
    await page.getByText('1 of 1 keys matching “partner”').waitFor();
    await page.getByTestId('key-Partner app').getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { level: 1, name: 'Usage: Partner app' }).waitFor();
    await page.getByText('Runs and failures per day').waitFor();
    await page.getByRole('row', { name: /Summarize/ }).waitFor();
    await capture('15-usage');

    await open(`/orgs/${organizationId}/audit`, 'Audit log');
    await page.getByText('api_key.revoked').first().waitFor();
    await page.locator('table.diff').first().waitFor();
    await capture('16-audit-log');

    await open(`/orgs/${organizationId}/members`, /Members of/);
    await capture('17-members');
  });

  test('a MEMBER sees no key-management controls, and why', async () => {
    const anonymous = createClient({ url: server.graphqlUrl });
    const member = { email: 'mia@example.com', password: 'mia-password-1', name: 'Mia Member' };
    await anonymous.signUp(member);
    const { token } = await anonymous.logIn(DEMO);
    await createClient({ url: server.graphqlUrl, token }).addMember({ organizationId, email: member.email, role: 'MEMBER' });

    const memberContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await memberContext.newPage();
    await p.goto(server.origin + '/sign-in');
    await p.getByLabel('Email').fill(member.email);
    await p.getByLabel('Password').fill(member.password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { level: 1, name: 'Prompts and flows' }).waitFor();

    await open(`/orgs/${organizationId}/keys`, 'API keys', p);
    await p.getByTestId('key-Partner app').waitFor();
    await p.getByTestId('no-key-management').waitFor();
    expect(await p.getByRole('link', { name: 'New API key' }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Manage permissions' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: /^(Rotate|Revoke)/ }).count()).toBe(0);
    await capture('18-member-api-keys', p);

    await open(`/orgs/${organizationId}/members`, /Members of/, p);
    expect(await p.getByRole('button', { name: 'Add member' }).isDisabled()).toBe(true);
    await p.getByText('Only admins and owners add members.').waitFor();
    await capture('19-member-members', p);

    await open(`/orgs/${organizationId}/audit`, 'Audit log', p);
    await p.getByText('The audit log is for admins and owners').waitFor();
    await memberContext.close();
  });

  test('at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await phone.newPage();
    await p.goto(server.origin + '/sign-in');
    await p.getByLabel('Email').fill(DEMO.email);
    await p.getByLabel('Password').fill(DEMO.password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { level: 1, name: 'Prompts and flows' }).waitFor();
    await open(`/orgs/${organizationId}/prompts/${summarizeId}/integrate`, 'Summarize', p);
    await p.getByText(/\d+ of \d+ keys/).waitFor();
    await capture('20-phone-integrate', p);
    await phone.close();
  });
});
