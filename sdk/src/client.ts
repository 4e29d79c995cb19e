import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { DocumentNode } from 'graphql';
import type * as G from '../__generated__/graphql.js';
import { getSdk, type Sdk } from '../__generated__/sdk.js';
import { NotFoundError } from './errors.js';
import { collect, iteratePages, toPage, type IterateOptions, type Page, type PageArgs, type SearchPageArgs } from './pagination.js';
import { retryPolicy, type RetryOptions } from './retry.js';
import { execute, type TransportOptions } from './transport.js';
import type {
  AccessDecision,
  ApiKey,
  ApiKeyQuotaUsage,
  ApiKeyGrant,
  ApiKeyDailyUsage,
  ApiKeyUsage,
  ApiKeyWithDailyRuns,
  ApiKeyWithGrants,
  AuditEvent,
  CreatedWebhook,
  AuthPayload,
  DemoSignIn,
  Flow,
  IssuedApiKey,
  Membership,
  Organization,
  OrganizationWithMembers,
  PermissionPreview,
  Prompt,
  ResourceRef,
  RunnableFlow,
  RunnablePrompt,
  Run,
  RunFilter,
  TimeWindow,
  Viewer,
  Webhook,
  WebhookDelivery,
} from './types.js';

const DAY_MS = 86_400_000;

interface CommonOptions {
  /** The GraphQL endpoint, e.g. `https://promptgate.example.com/graphql`. */
  url: string;
  /** A fetch implementation; the global `fetch` unless given. */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** When reads are retried; `false` never retries. */
  retry?: RetryOptions | false;
  /** Gives up on a request after this long (a NetworkError); no limit unless given. */
  timeoutMs?: number;
}

/** With `apiKey` for partner apps, `token` (a session from logIn) for the dashboard, or neither to sign up or log in. */
export type ClientOptions = CommonOptions &
  ({ apiKey: string; token?: undefined } | { token: string; apiKey?: undefined } | { apiKey?: undefined; token?: undefined });

/** A PromptGate client. `createClient` makes one. */
export class PromptGateClient {
  /** The generated operations, one per document in sdk/operations, answering the raw `data`. */
  readonly operations: Sdk;
  readonly #transport: TransportOptions;

  constructor(options: ClientOptions) {
    const credential = options.apiKey ?? options.token;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('No fetch: pass `fetch` to createClient');
    this.#transport = {
      url: options.url,
      // Called bare, as the global fetch must be in browsers.
      fetch: (input, init) => fetchImpl(input, init),
      headers: { ...options.headers, ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
      retry: retryPolicy(options.retry),
      timeoutMs: options.timeoutMs,
    };
    this.operations = getSdk(<R, V>(document: DocumentNode, variables?: V) => execute<R>(this.#transport, document, variables));
  }

  /** Runs any typed document (your own, or one of the exported ones) with this client's credential, errors and retries. */
  request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Promise<TData> {
    return execute<TData>(this.#transport, document, variables);
  }

  // Who is calling

  /** The signed-in user (with memberships) or the calling API key; both null when anonymous. */
  async viewer(): Promise<Viewer> {
    return (await this.operations.Viewer()).viewer;
  }

  /**
   * The demo owner's email and password while they still sign in on a fresh embedded database,
   * for a sign-in screen to offer; null on PostgreSQL or once the demo password was changed.
   */
  async demoSignIn(): Promise<DemoSignIn | null> {
    return (await this.operations.DemoSignIn()).demoSignIn;
  }

  /** Creates an account and answers a session token for `createClient({ token })`. */
  async signUp(input: G.SignUpInput): Promise<AuthPayload> {
    return (await this.operations.SignUp({ input })).signUp;
  }

  /** Starts a session; a wrong email or password is an UnauthenticatedError. */
  async logIn(input: G.LogInInput): Promise<AuthPayload> {
    return (await this.operations.LogIn({ input })).logIn;
  }

  /** Ends the session of this client's token at once. */
  async logOut(): Promise<boolean> {
    return (await this.operations.LogOut()).logOut;
  }

  // Organizations and members

  /** The organization with its members and the caller's role in it. */
  async organization(id: string): Promise<OrganizationWithMembers | null> {
    return (await this.operations.Organization({ id })).organization;
  }

  /** The caller becomes its OWNER. */
  async createOrganization(input: G.CreateOrganizationInput): Promise<Organization> {
    return (await this.operations.CreateOrganization({ input })).createOrganization;
  }

  /** Adds an existing account. Admins add MEMBERs; only owners add ADMINs and OWNERs. */
  async addMember(input: G.AddMemberInput): Promise<Membership> {
    return (await this.operations.AddMember({ input })).addMember;
  }

  /** Only owners touch ADMIN and OWNER roles; the last owner stays. */
  async updateMemberRole(input: G.UpdateMemberRoleInput): Promise<Membership> {
    return (await this.operations.UpdateMemberRole({ input })).updateMemberRole;
  }

  /** Answers the removed user's id. */
  async removeMember(input: G.RemoveMemberInput): Promise<string> {
    return (await this.operations.RemoveMember({ input })).removeMember;
  }

  /** One page of the organization's change history, newest first (admins and owners). */
  async auditLog(organizationId: string, page: PageArgs = {}): Promise<Page<AuditEvent>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.AuditLog({ organizationId, ...page })).auditLog);
  }

  /** Every event of the audit log, newest first, fetched page after page as it is read. */
  iterateAuditLog(organizationId: string, options?: IterateOptions): AsyncGenerator<AuditEvent, void, undefined> {
    return iteratePages((page) => this.auditLog(organizationId, page), options);
  }

  // Prompts

  /** A prompt by id; a NotFoundError when it does not exist or the caller may not see it. */
  async prompt(id: string): Promise<Prompt | null> {
    return (await this.operations.Prompt({ id })).prompt;
  }

  /** One page of the organization's prompts, by name; `search` keeps those whose name contains it. */
  async prompts(organizationId: string, page: SearchPageArgs = {}): Promise<Page<Prompt>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.OrganizationPrompts({ organizationId, ...page })).prompts);
  }

  /** Every prompt of the organization, fetched page after page as it is read. */
  iteratePrompts(organizationId: string, options?: IterateOptions): AsyncGenerator<Prompt, void, undefined> {
    return iteratePages((page) => this.prompts(organizationId, page), options);
  }

  /** A prompt: a template with {{variable}} placeholders, run by `model` ("echo" unless given). */
  async createPrompt(input: G.CreatePromptInput): Promise<Prompt> {
    return (await this.operations.CreatePrompt({ input })).createPrompt;
  }

  /** Changes the fields given; `description: null` clears it. */
  async updatePrompt(input: G.UpdatePromptInput): Promise<Prompt> {
    return (await this.operations.UpdatePrompt({ input })).updatePrompt;
  }

  /** Answers the deleted prompt's id; a prompt that is a step of a flow is a ConflictError. */
  async deletePrompt(input: G.DeletePromptInput): Promise<string> {
    return (await this.operations.DeletePrompt({ input })).deletePrompt;
  }

  /** Runs a prompt. A provider failure answers the run FAILED; a refusal throws (ForbiddenError, …). */
  async runPrompt(input: G.RunPromptInput): Promise<Run> {
    return (await this.operations.RunPrompt({ input })).runPrompt;
  }

  // Flows

  /** A flow by id, with its steps. */
  async flow(id: string): Promise<Flow | null> {
    return (await this.operations.Flow({ id })).flow;
  }

  /** One page of the organization's flows, by name; `search` keeps those whose name contains it. */
  async flows(organizationId: string, page: SearchPageArgs = {}): Promise<Page<Flow>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.OrganizationFlows({ organizationId, ...page })).flows);
  }

  /** Every flow of the organization, fetched page after page as it is read. */
  iterateFlows(organizationId: string, options?: IterateOptions): AsyncGenerator<Flow, void, undefined> {
    return iteratePages((page) => this.flows(organizationId, page), options);
  }

  /** A flow runs prompts of its organization in order, each later one receiving the previous result. */
  async createFlow(input: G.CreateFlowInput): Promise<Flow> {
    return (await this.operations.CreateFlow({ input })).createFlow;
  }

  /** Changes the fields given; `steps` replaces all steps. */
  async updateFlow(input: G.UpdateFlowInput): Promise<Flow> {
    return (await this.operations.UpdateFlow({ input })).updateFlow;
  }

  /** Answers the deleted flow's id. */
  async deleteFlow(input: G.DeleteFlowInput): Promise<string> {
    return (await this.operations.DeleteFlow({ input })).deleteFlow;
  }

  /** Runs a flow step after step; a provider failure answers the run FAILED at that step. */
  async runFlow(input: G.RunFlowInput): Promise<Run> {
    return (await this.operations.RunFlow({ input })).runFlow;
  }

  // Runs

  /** A run by id; an API key reads its own runs only. */
  async run(id: string): Promise<Run | null> {
    return (await this.operations.Run({ id })).run;
  }

  /** One page of the organization's runs, newest first; an API key sees its own runs only. */
  async runs(organizationId: string, filter: RunFilter & PageArgs = {}): Promise<Page<Run>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.OrganizationRuns({ organizationId, ...filter })).runs);
  }

  /** Every run matching the filter, newest first, fetched page after page as it is read. */
  iterateRuns(organizationId: string, filter: RunFilter = {}, options?: IterateOptions): AsyncGenerator<Run, void, undefined> {
    return iteratePages((page) => this.runs(organizationId, { ...filter, ...page }), options);
  }

  /** 1 to 5 stars for a finished run. */
  async rateRun(input: G.RateRunInput): Promise<Run> {
    return (await this.operations.RateRun({ input })).rateRun;
  }

  // API keys

  /** A key by id (never its secret); an API key reads only itself. */
  async apiKey(id: string): Promise<ApiKey | null> {
    return (await this.operations.ApiKey({ id })).apiKey;
  }

  /** A key with its grants, each granted flow with its steps (the prompts the grant covers): a Manage Permissions panel. */
  async apiKeyPermissions(id: string): Promise<ApiKeyWithGrants | null> {
    return (await this.operations.ApiKeyPermissions({ id })).apiKey;
  }

  /** One page of every key of the organization, active or not, by name; `search` keeps those whose name contains it. */
  async apiKeys(organizationId: string, page: SearchPageArgs = {}): Promise<Page<ApiKey>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.OrganizationApiKeys({ organizationId, ...page })).apiKeys);
  }

  /** Like apiKeys, each key with its runs per UTC day over the last `days` days (14 unless given, at most 90): one request. */
  async apiKeysWithDailyRuns(organizationId: string, page: SearchPageArgs & { days?: number } = {}): Promise<Page<ApiKeyWithDailyRuns>> {
    return toPage(organizationOrThrow(organizationId, await this.operations.OrganizationApiKeysDailyRuns({ organizationId, ...page })).apiKeys);
  }

  /** Every key of the organization, fetched page after page as it is read. */
  iterateApiKeys(organizationId: string, options?: IterateOptions): AsyncGenerator<ApiKey, void, undefined> {
    return iteratePages((page) => this.apiKeys(organizationId, page), options);
  }

  /** Issues a key (admins and owners). The answer holds the whole secret, this once. */
  async createApiKey(input: G.CreateApiKeyInput): Promise<IssuedApiKey> {
    return (await this.operations.CreateApiKey({ input })).createApiKey;
  }

  /** Replaces the key's access and grants as a whole. */
  async updateApiKeyPermissions(input: G.UpdateApiKeyPermissionsInput): Promise<ApiKey> {
    return (await this.operations.UpdateApiKeyPermissions({ input })).updateApiKeyPermissions;
  }

  /** Renames a key or changes when it expires (`expiresAt: null` never expires). */
  async updateApiKey(input: G.UpdateApiKeyInput): Promise<ApiKey> {
    return (await this.operations.UpdateApiKey({ input })).updateApiKey;
  }

  /**
   * Replaces the key's guardrails as a whole (admins and owners): requests per minute, monthly run
   * and token quotas, allowed networks (CIDRs). An absent or null field clears that limit.
   */
  async updateApiKeyLimits(input: G.UpdateApiKeyLimitsInput): Promise<ApiKey> {
    return (await this.operations.UpdateApiKeyLimits({ input })).updateApiKeyLimits;
  }

  /** The key's monthly quotas and its runs and tokens so far this month (UTC), with when they reset. */
  async apiKeyQuotaUsage(id: string): Promise<ApiKeyQuotaUsage | null> {
    return (await this.operations.ApiKeyQuotaUsage({ id })).apiKey;
  }

  /** Ends the key for good, at once. */
  async revokeApiKey(input: G.RevokeApiKeyInput): Promise<ApiKey> {
    return (await this.operations.RevokeApiKey({ input })).revokeApiKey;
  }

  /** A new secret for the same key; the old one keeps working for `gracePeriodSeconds`. */
  async rotateApiKey(input: G.RotateApiKeyInput): Promise<IssuedApiKey> {
    return (await this.operations.RotateApiKey({ input })).rotateApiKey;
  }

  /** Every active key that may run the prompt or flow, by name, all pages fetched. */
  async availableApiKeys(resource: ResourceRef): Promise<ApiKey[]> {
    return collect(this.iterateAvailableApiKeys(resource));
  }

  /** One page of the keys that may run the prompt or flow, by name, with the total (a dashboard's Integrate tab). */
  async availableApiKeysPage(resource: ResourceRef, page: SearchPageArgs = {}): Promise<Page<ApiKey>> {
    return toPage((await this.operations.AvailableApiKeys({ ...resourceArgs(resource), ...page })).availableApiKeys);
  }

  /** The keys of `availableApiKeys`, fetched page after page as they are read. */
  iterateAvailableApiKeys(resource: ResourceRef, options?: IterateOptions): AsyncGenerator<ApiKey, void, undefined> {
    return iteratePages(
      async (page) => toPage((await this.operations.AvailableApiKeys({ ...resourceArgs(resource), ...page })).availableApiKeys),
      options,
    );
  }

  /**
   * Would the key be allowed to run the prompt or flow? Runs nothing. An API key asks about
   * itself (leave `apiKeyId` out); members ask about any key of their organization.
   */
  async checkAccess(resource: ResourceRef, apiKeyId?: string): Promise<AccessDecision> {
    return (await this.operations.CheckAccess({ ...resourceArgs(resource), apiKeyId })).checkAccess;
  }

  /**
   * One page of the prompts the key may run now, by name, each with every path that lets it (its
   * own grant, each granted flow that runs it, or the whole organization). A key reads its own
   * (its id is `viewer().apiKey.id`); members read any key of their organization.
   */
  async runnablePrompts(apiKeyId: string, page: PageArgs = {}): Promise<Page<RunnablePrompt>> {
    const key = (await this.operations.RunnablePrompts({ apiKeyId, ...page })).apiKey;
    if (!key) throw new NotFoundError('NOT_FOUND', `ApiKey ${apiKeyId} was not found`);
    return toPage(key.runnablePrompts);
  }

  /** Every prompt of `runnablePrompts`, fetched page after page as it is read. */
  iterateRunnablePrompts(apiKeyId: string, options?: IterateOptions): AsyncGenerator<RunnablePrompt, void, undefined> {
    return iteratePages((page) => this.runnablePrompts(apiKeyId, page), options);
  }

  /** One page of the flows the key may run now, by name, with the path that lets it. */
  async runnableFlows(apiKeyId: string, page: PageArgs = {}): Promise<Page<RunnableFlow>> {
    const key = (await this.operations.RunnableFlows({ apiKeyId, ...page })).apiKey;
    if (!key) throw new NotFoundError('NOT_FOUND', `ApiKey ${apiKeyId} was not found`);
    return toPage(key.runnableFlows);
  }

  /** Every flow of `runnableFlows`, fetched page after page as it is read. */
  iterateRunnableFlows(apiKeyId: string, options?: IterateOptions): AsyncGenerator<RunnableFlow, void, undefined> {
    return iteratePages((page) => this.runnableFlows(apiKeyId, page), options);
  }

  /** The key's grants with their use: granted when, last used when, runs since `since` (default: the last 30 days). */
  async apiKeyGrants(apiKeyId: string, since?: string | Date): Promise<ApiKeyGrant[]> {
    const key = (await this.operations.ApiKeyGrants({ apiKeyId, since })).apiKey;
    if (!key) throw new NotFoundError('NOT_FOUND', `ApiKey ${apiKeyId} was not found`);
    return key.grants;
  }

  /**
   * What `updateApiKeyPermissions(input)` would change, changing nothing (admins and owners):
   * prompts and flows gained and lost, and the key's runs since `since` (default: the last 30
   * days) it would refuse. Fails exactly as the change itself would.
   */
  async previewApiKeyPermissions(input: G.UpdateApiKeyPermissionsInput, since?: string | Date): Promise<PermissionPreview> {
    return (await this.operations.PreviewApiKeyPermissions({ input, since })).previewApiKeyPermissions;
  }

  /** Runs, failures, latency and tokens of a key, overall and per prompt or flow (all time unless a window is given). */
  async apiKeyUsage(apiKeyId: string, window: TimeWindow = {}): Promise<ApiKeyUsage | null> {
    return (await this.operations.ApiKeyUsage({ apiKeyId, ...window })).apiKey;
  }

  // Webhooks (admins and owners)

  /** The organization's webhooks (never their secrets). */
  async webhooks(organizationId: string): Promise<Webhook[]> {
    return organizationOrThrow(organizationId, await this.operations.Webhooks({ organizationId })).webhooks;
  }

  /**
   * Subscribes a URL to key events, signed per the Standard Webhooks specification. The answer
   * holds the signing secret (`whsec_…`), this once: keep it to verify deliveries.
   */
  async createWebhook(input: G.CreateWebhookInput): Promise<CreatedWebhook> {
    return (await this.operations.CreateWebhook({ input })).createWebhook;
  }

  /** Changes a webhook's URL, events or whether it is enabled; absent fields are unchanged. */
  async updateWebhook(input: G.UpdateWebhookInput): Promise<Webhook> {
    return (await this.operations.UpdateWebhook({ input })).updateWebhook;
  }

  /** Deletes a webhook and its deliveries; answers its id. */
  async deleteWebhook(webhookId: string): Promise<string> {
    return (await this.operations.DeleteWebhook({ webhookId })).deleteWebhook;
  }

  /** Queues a PING to the webhook now and answers its delivery. */
  async testWebhook(webhookId: string): Promise<WebhookDelivery> {
    return (await this.operations.TestWebhook({ webhookId })).testWebhook;
  }

  /** One page of a webhook's deliveries, newest first, each with its status and attempts. */
  async webhookDeliveries(webhookId: string, page: PageArgs = {}): Promise<Page<WebhookDelivery>> {
    const node = (await this.operations.WebhookDeliveries({ webhookId, ...page })).node;
    if (!node || !('deliveries' in node)) throw new NotFoundError('NOT_FOUND', `Webhook ${webhookId} was not found`);
    return toPage(node.deliveries);
  }

  // Usage per day (the console's charts and sparklines)

  /**
   * A key's usage over the `days` whole UTC days ending with the day of `until` (now unless
   * given; 14 days unless given, at most 90): the whole window, per prompt or flow, and one entry
   * per day (zeros included), in one request: a usage screen's charts.
   */
  async apiKeyDailyUsage(apiKeyId: string, window: { days?: number; until?: string | Date } = {}): Promise<ApiKeyDailyUsage | null> {
    const days = window.days ?? 14;
    const until = window.until === undefined ? new Date() : new Date(window.until);
    const firstDay = Math.floor(until.getTime() / DAY_MS) - days + 1;
    const since = new Date(firstDay * DAY_MS);
    return (await this.operations.ApiKeyDailyUsage({ apiKeyId, days, since, until })).apiKey;
  }
}

/** A client for partner apps (`apiKey`) or the dashboard (`token`). */
export function createClient(options: ClientOptions): PromptGateClient {
  return new PromptGateClient(options);
}

function resourceArgs(resource: ResourceRef): { promptId?: string; flowId?: string } {
  return resource.promptId !== undefined ? { promptId: resource.promptId } : { flowId: resource.flowId };
}

/**
 * The lists hang off `organization(id)`, which the schema lets be null. The server answers
 * NOT_FOUND rather than null; should a null come all the same, it means the same.
 */
function organizationOrThrow<T>(organizationId: string, data: { organization: T | null }): T {
  if (data.organization === null) throw new NotFoundError('NOT_FOUND', `Organization ${organizationId} was not found`);
  return data.organization;
}
