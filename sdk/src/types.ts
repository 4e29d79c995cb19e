/**
 * The objects the client's methods answer, named after what they are. Each is the TypeScript
 * type of a fragment in sdk/operations/fragments.graphql.
 */
import type * as G from '../__generated__/graphql.js';

export type User = G.UserFieldsFragment;
export type Membership = G.MembershipFieldsFragment;
export type Organization = G.OrganizationFieldsFragment;
/** An organization with its members, as `organization(id)` answers it. */
export type OrganizationWithMembers = NonNullable<G.OrganizationQuery['organization']>;
export type Prompt = G.PromptFieldsFragment;
export type Flow = G.FlowFieldsFragment;
export type ApiKey = G.ApiKeyFieldsFragment;
export type Run = G.RunFieldsFragment;
export type RunStep = G.RunStepFieldsFragment;
export type Usage = G.UsageFieldsFragment;
export type AuditEvent = G.AuditEventFieldsFragment;
export type Webhook = G.WebhookFieldsFragment;
export type WebhookDelivery = G.WebhookDeliveryFieldsFragment;

/** Who is calling: a signed-in user with their memberships, an API key, or neither. */
export type Viewer = G.ViewerQuery['viewer'];
/** A session token for `createClient({ token })` and its user. */
export type AuthPayload = G.LogInMutation['logIn'];
/** The demo owner's credentials on a fresh embedded database. */
export type DemoSignIn = NonNullable<G.DemoSignInQuery['demoSignIn']>;
/** A new or rotated key: `secret` is shown this once and never again. */
export type IssuedApiKey = G.CreateApiKeyMutation['createApiKey'];
/** A key whose granted flows carry their steps, as `apiKeyPermissions(id)` answers it. */
export type ApiKeyWithGrants = NonNullable<G.ApiKeyPermissionsQuery['apiKey']>;
/** A new webhook: `secret` (whsec_…) signs its deliveries and is shown this once. */
export type CreatedWebhook = G.CreateWebhookMutation['createWebhook'];
/** Whether a key may run a prompt or flow, and why. */
export type AccessDecision = G.CheckAccessQuery['checkAccess'];
/** One path by which a key reaches a prompt or flow (`AccessDecision.via`, `RunnablePrompt.via`). */
export type AccessPath = AccessDecision['via'][number];
/** A prompt a key may run, with every path that lets it. */
export type RunnablePrompt = NonNullable<G.RunnablePromptsQuery['apiKey']>['runnablePrompts']['nodes'][number];
/** A flow a key may run, with the path that lets it. */
export type RunnableFlow = NonNullable<G.RunnableFlowsQuery['apiKey']>['runnableFlows']['nodes'][number];
/** One grant of a SPECIFIC key with its use: when granted, last used, runs in the window. */
export type ApiKeyGrant = NonNullable<G.ApiKeyGrantsQuery['apiKey']>['grants'][number];
/** What `updateApiKeyPermissions` with the same input would change, computed without changing anything. */
export type PermissionPreview = G.PreviewApiKeyPermissionsQuery['previewApiKeyPermissions'];
/** A key's usage in a time window, overall and per prompt or flow. */
export type ApiKeyUsage = NonNullable<G.ApiKeyUsageQuery['apiKey']>;
export type ResourceUsage = ApiKeyUsage['usageByResource'][number];
/** A key's monthly quotas and what it counted against them this month (UTC). */
export type ApiKeyQuotaUsage = NonNullable<G.ApiKeyQuotaUsageQuery['apiKey']>;
/** A key's usage over a window of whole UTC days: the whole, per prompt or flow, and per day. */
export type ApiKeyDailyUsage = NonNullable<G.ApiKeyDailyUsageQuery['apiKey']>;
/** One UTC day of a key's usage (`day` is YYYY-MM-DD). */
export type DailyUsage = ApiKeyDailyUsage['dailyUsage'][number];
/** A key with its runs per UTC day (a list's sparkline). */
export type ApiKeyWithDailyRuns = NonNullable<G.OrganizationApiKeysDailyRunsQuery['organization']>['apiKeys']['nodes'][number];

/** Exactly one prompt or one flow. */
export type ResourceRef = { promptId: string; flowId?: undefined } | { flowId: string; promptId?: undefined };

/** Filters of an organization's run list. */
export interface RunFilter {
  apiKeyId?: string;
  promptId?: string;
  flowId?: string;
  status?: G.RunStatus;
}

/** A time window; both ends optional. Dates are sent as RFC 3339 strings. */
export interface TimeWindow {
  /** Runs started at or after this moment. */
  since?: string | Date;
  /** Runs started before this moment. */
  until?: string | Date;
}
