import type { DocumentNode } from 'graphql';
import * as Operations from './graphql.js';




















































export type Requester<C = {}> = <R, V>(doc: DocumentNode, vars?: V, options?: C) => Promise<R> | AsyncIterable<R>
export function getSdk<C>(requester: Requester<C>) {
  return {
    ApiKey(variables: Operations.ApiKeyQueryVariables, options?: C): Promise<Operations.ApiKeyQuery> {
      return requester<Operations.ApiKeyQuery, Operations.ApiKeyQueryVariables>(Operations.ApiKeyDocument, variables, options) as Promise<Operations.ApiKeyQuery>;
    },
    AvailableApiKeys(variables?: Operations.AvailableApiKeysQueryVariables, options?: C): Promise<Operations.AvailableApiKeysQuery> {
      return requester<Operations.AvailableApiKeysQuery, Operations.AvailableApiKeysQueryVariables>(Operations.AvailableApiKeysDocument, variables, options) as Promise<Operations.AvailableApiKeysQuery>;
    },
    CheckAccess(variables?: Operations.CheckAccessQueryVariables, options?: C): Promise<Operations.CheckAccessQuery> {
      return requester<Operations.CheckAccessQuery, Operations.CheckAccessQueryVariables>(Operations.CheckAccessDocument, variables, options) as Promise<Operations.CheckAccessQuery>;
    },
    RunnablePrompts(variables: Operations.RunnablePromptsQueryVariables, options?: C): Promise<Operations.RunnablePromptsQuery> {
      return requester<Operations.RunnablePromptsQuery, Operations.RunnablePromptsQueryVariables>(Operations.RunnablePromptsDocument, variables, options) as Promise<Operations.RunnablePromptsQuery>;
    },
    RunnableFlows(variables: Operations.RunnableFlowsQueryVariables, options?: C): Promise<Operations.RunnableFlowsQuery> {
      return requester<Operations.RunnableFlowsQuery, Operations.RunnableFlowsQueryVariables>(Operations.RunnableFlowsDocument, variables, options) as Promise<Operations.RunnableFlowsQuery>;
    },
    ApiKeyGrants(variables: Operations.ApiKeyGrantsQueryVariables, options?: C): Promise<Operations.ApiKeyGrantsQuery> {
      return requester<Operations.ApiKeyGrantsQuery, Operations.ApiKeyGrantsQueryVariables>(Operations.ApiKeyGrantsDocument, variables, options) as Promise<Operations.ApiKeyGrantsQuery>;
    },
    PreviewApiKeyPermissions(variables: Operations.PreviewApiKeyPermissionsQueryVariables, options?: C): Promise<Operations.PreviewApiKeyPermissionsQuery> {
      return requester<Operations.PreviewApiKeyPermissionsQuery, Operations.PreviewApiKeyPermissionsQueryVariables>(Operations.PreviewApiKeyPermissionsDocument, variables, options) as Promise<Operations.PreviewApiKeyPermissionsQuery>;
    },
    ApiKeyUsage(variables: Operations.ApiKeyUsageQueryVariables, options?: C): Promise<Operations.ApiKeyUsageQuery> {
      return requester<Operations.ApiKeyUsageQuery, Operations.ApiKeyUsageQueryVariables>(Operations.ApiKeyUsageDocument, variables, options) as Promise<Operations.ApiKeyUsageQuery>;
    },
    CreateApiKey(variables: Operations.CreateApiKeyMutationVariables, options?: C): Promise<Operations.CreateApiKeyMutation> {
      return requester<Operations.CreateApiKeyMutation, Operations.CreateApiKeyMutationVariables>(Operations.CreateApiKeyDocument, variables, options) as Promise<Operations.CreateApiKeyMutation>;
    },
    UpdateApiKeyPermissions(variables: Operations.UpdateApiKeyPermissionsMutationVariables, options?: C): Promise<Operations.UpdateApiKeyPermissionsMutation> {
      return requester<Operations.UpdateApiKeyPermissionsMutation, Operations.UpdateApiKeyPermissionsMutationVariables>(Operations.UpdateApiKeyPermissionsDocument, variables, options) as Promise<Operations.UpdateApiKeyPermissionsMutation>;
    },
    UpdateApiKey(variables: Operations.UpdateApiKeyMutationVariables, options?: C): Promise<Operations.UpdateApiKeyMutation> {
      return requester<Operations.UpdateApiKeyMutation, Operations.UpdateApiKeyMutationVariables>(Operations.UpdateApiKeyDocument, variables, options) as Promise<Operations.UpdateApiKeyMutation>;
    },
    UpdateApiKeyLimits(variables: Operations.UpdateApiKeyLimitsMutationVariables, options?: C): Promise<Operations.UpdateApiKeyLimitsMutation> {
      return requester<Operations.UpdateApiKeyLimitsMutation, Operations.UpdateApiKeyLimitsMutationVariables>(Operations.UpdateApiKeyLimitsDocument, variables, options) as Promise<Operations.UpdateApiKeyLimitsMutation>;
    },
    ApiKeyQuotaUsage(variables: Operations.ApiKeyQuotaUsageQueryVariables, options?: C): Promise<Operations.ApiKeyQuotaUsageQuery> {
      return requester<Operations.ApiKeyQuotaUsageQuery, Operations.ApiKeyQuotaUsageQueryVariables>(Operations.ApiKeyQuotaUsageDocument, variables, options) as Promise<Operations.ApiKeyQuotaUsageQuery>;
    },
    RevokeApiKey(variables: Operations.RevokeApiKeyMutationVariables, options?: C): Promise<Operations.RevokeApiKeyMutation> {
      return requester<Operations.RevokeApiKeyMutation, Operations.RevokeApiKeyMutationVariables>(Operations.RevokeApiKeyDocument, variables, options) as Promise<Operations.RevokeApiKeyMutation>;
    },
    RotateApiKey(variables: Operations.RotateApiKeyMutationVariables, options?: C): Promise<Operations.RotateApiKeyMutation> {
      return requester<Operations.RotateApiKeyMutation, Operations.RotateApiKeyMutationVariables>(Operations.RotateApiKeyDocument, variables, options) as Promise<Operations.RotateApiKeyMutation>;
    },
    ApiKeyPermissions(variables: Operations.ApiKeyPermissionsQueryVariables, options?: C): Promise<Operations.ApiKeyPermissionsQuery> {
      return requester<Operations.ApiKeyPermissionsQuery, Operations.ApiKeyPermissionsQueryVariables>(Operations.ApiKeyPermissionsDocument, variables, options) as Promise<Operations.ApiKeyPermissionsQuery>;
    },
    ApiKeyDailyUsage(variables: Operations.ApiKeyDailyUsageQueryVariables, options?: C): Promise<Operations.ApiKeyDailyUsageQuery> {
      return requester<Operations.ApiKeyDailyUsageQuery, Operations.ApiKeyDailyUsageQueryVariables>(Operations.ApiKeyDailyUsageDocument, variables, options) as Promise<Operations.ApiKeyDailyUsageQuery>;
    },
    Flow(variables: Operations.FlowQueryVariables, options?: C): Promise<Operations.FlowQuery> {
      return requester<Operations.FlowQuery, Operations.FlowQueryVariables>(Operations.FlowDocument, variables, options) as Promise<Operations.FlowQuery>;
    },
    CreateFlow(variables: Operations.CreateFlowMutationVariables, options?: C): Promise<Operations.CreateFlowMutation> {
      return requester<Operations.CreateFlowMutation, Operations.CreateFlowMutationVariables>(Operations.CreateFlowDocument, variables, options) as Promise<Operations.CreateFlowMutation>;
    },
    UpdateFlow(variables: Operations.UpdateFlowMutationVariables, options?: C): Promise<Operations.UpdateFlowMutation> {
      return requester<Operations.UpdateFlowMutation, Operations.UpdateFlowMutationVariables>(Operations.UpdateFlowDocument, variables, options) as Promise<Operations.UpdateFlowMutation>;
    },
    DeleteFlow(variables: Operations.DeleteFlowMutationVariables, options?: C): Promise<Operations.DeleteFlowMutation> {
      return requester<Operations.DeleteFlowMutation, Operations.DeleteFlowMutationVariables>(Operations.DeleteFlowDocument, variables, options) as Promise<Operations.DeleteFlowMutation>;
    },
    RunFlow(variables: Operations.RunFlowMutationVariables, options?: C): Promise<Operations.RunFlowMutation> {
      return requester<Operations.RunFlowMutation, Operations.RunFlowMutationVariables>(Operations.RunFlowDocument, variables, options) as Promise<Operations.RunFlowMutation>;
    },
    Organization(variables: Operations.OrganizationQueryVariables, options?: C): Promise<Operations.OrganizationQuery> {
      return requester<Operations.OrganizationQuery, Operations.OrganizationQueryVariables>(Operations.OrganizationDocument, variables, options) as Promise<Operations.OrganizationQuery>;
    },
    CreateOrganization(variables: Operations.CreateOrganizationMutationVariables, options?: C): Promise<Operations.CreateOrganizationMutation> {
      return requester<Operations.CreateOrganizationMutation, Operations.CreateOrganizationMutationVariables>(Operations.CreateOrganizationDocument, variables, options) as Promise<Operations.CreateOrganizationMutation>;
    },
    AddMember(variables: Operations.AddMemberMutationVariables, options?: C): Promise<Operations.AddMemberMutation> {
      return requester<Operations.AddMemberMutation, Operations.AddMemberMutationVariables>(Operations.AddMemberDocument, variables, options) as Promise<Operations.AddMemberMutation>;
    },
    UpdateMemberRole(variables: Operations.UpdateMemberRoleMutationVariables, options?: C): Promise<Operations.UpdateMemberRoleMutation> {
      return requester<Operations.UpdateMemberRoleMutation, Operations.UpdateMemberRoleMutationVariables>(Operations.UpdateMemberRoleDocument, variables, options) as Promise<Operations.UpdateMemberRoleMutation>;
    },
    RemoveMember(variables: Operations.RemoveMemberMutationVariables, options?: C): Promise<Operations.RemoveMemberMutation> {
      return requester<Operations.RemoveMemberMutation, Operations.RemoveMemberMutationVariables>(Operations.RemoveMemberDocument, variables, options) as Promise<Operations.RemoveMemberMutation>;
    },
    OrganizationPrompts(variables: Operations.OrganizationPromptsQueryVariables, options?: C): Promise<Operations.OrganizationPromptsQuery> {
      return requester<Operations.OrganizationPromptsQuery, Operations.OrganizationPromptsQueryVariables>(Operations.OrganizationPromptsDocument, variables, options) as Promise<Operations.OrganizationPromptsQuery>;
    },
    OrganizationFlows(variables: Operations.OrganizationFlowsQueryVariables, options?: C): Promise<Operations.OrganizationFlowsQuery> {
      return requester<Operations.OrganizationFlowsQuery, Operations.OrganizationFlowsQueryVariables>(Operations.OrganizationFlowsDocument, variables, options) as Promise<Operations.OrganizationFlowsQuery>;
    },
    OrganizationApiKeys(variables: Operations.OrganizationApiKeysQueryVariables, options?: C): Promise<Operations.OrganizationApiKeysQuery> {
      return requester<Operations.OrganizationApiKeysQuery, Operations.OrganizationApiKeysQueryVariables>(Operations.OrganizationApiKeysDocument, variables, options) as Promise<Operations.OrganizationApiKeysQuery>;
    },
    OrganizationRuns(variables: Operations.OrganizationRunsQueryVariables, options?: C): Promise<Operations.OrganizationRunsQuery> {
      return requester<Operations.OrganizationRunsQuery, Operations.OrganizationRunsQueryVariables>(Operations.OrganizationRunsDocument, variables, options) as Promise<Operations.OrganizationRunsQuery>;
    },
    AuditLog(variables: Operations.AuditLogQueryVariables, options?: C): Promise<Operations.AuditLogQuery> {
      return requester<Operations.AuditLogQuery, Operations.AuditLogQueryVariables>(Operations.AuditLogDocument, variables, options) as Promise<Operations.AuditLogQuery>;
    },
    OrganizationApiKeysDailyRuns(variables: Operations.OrganizationApiKeysDailyRunsQueryVariables, options?: C): Promise<Operations.OrganizationApiKeysDailyRunsQuery> {
      return requester<Operations.OrganizationApiKeysDailyRunsQuery, Operations.OrganizationApiKeysDailyRunsQueryVariables>(Operations.OrganizationApiKeysDailyRunsDocument, variables, options) as Promise<Operations.OrganizationApiKeysDailyRunsQuery>;
    },
    Prompt(variables: Operations.PromptQueryVariables, options?: C): Promise<Operations.PromptQuery> {
      return requester<Operations.PromptQuery, Operations.PromptQueryVariables>(Operations.PromptDocument, variables, options) as Promise<Operations.PromptQuery>;
    },
    CreatePrompt(variables: Operations.CreatePromptMutationVariables, options?: C): Promise<Operations.CreatePromptMutation> {
      return requester<Operations.CreatePromptMutation, Operations.CreatePromptMutationVariables>(Operations.CreatePromptDocument, variables, options) as Promise<Operations.CreatePromptMutation>;
    },
    UpdatePrompt(variables: Operations.UpdatePromptMutationVariables, options?: C): Promise<Operations.UpdatePromptMutation> {
      return requester<Operations.UpdatePromptMutation, Operations.UpdatePromptMutationVariables>(Operations.UpdatePromptDocument, variables, options) as Promise<Operations.UpdatePromptMutation>;
    },
    DeletePrompt(variables: Operations.DeletePromptMutationVariables, options?: C): Promise<Operations.DeletePromptMutation> {
      return requester<Operations.DeletePromptMutation, Operations.DeletePromptMutationVariables>(Operations.DeletePromptDocument, variables, options) as Promise<Operations.DeletePromptMutation>;
    },
    RunPrompt(variables: Operations.RunPromptMutationVariables, options?: C): Promise<Operations.RunPromptMutation> {
      return requester<Operations.RunPromptMutation, Operations.RunPromptMutationVariables>(Operations.RunPromptDocument, variables, options) as Promise<Operations.RunPromptMutation>;
    },
    Run(variables: Operations.RunQueryVariables, options?: C): Promise<Operations.RunQuery> {
      return requester<Operations.RunQuery, Operations.RunQueryVariables>(Operations.RunDocument, variables, options) as Promise<Operations.RunQuery>;
    },
    RateRun(variables: Operations.RateRunMutationVariables, options?: C): Promise<Operations.RateRunMutation> {
      return requester<Operations.RateRunMutation, Operations.RateRunMutationVariables>(Operations.RateRunDocument, variables, options) as Promise<Operations.RateRunMutation>;
    },
    Viewer(variables?: Operations.ViewerQueryVariables, options?: C): Promise<Operations.ViewerQuery> {
      return requester<Operations.ViewerQuery, Operations.ViewerQueryVariables>(Operations.ViewerDocument, variables, options) as Promise<Operations.ViewerQuery>;
    },
    SignUp(variables: Operations.SignUpMutationVariables, options?: C): Promise<Operations.SignUpMutation> {
      return requester<Operations.SignUpMutation, Operations.SignUpMutationVariables>(Operations.SignUpDocument, variables, options) as Promise<Operations.SignUpMutation>;
    },
    LogIn(variables: Operations.LogInMutationVariables, options?: C): Promise<Operations.LogInMutation> {
      return requester<Operations.LogInMutation, Operations.LogInMutationVariables>(Operations.LogInDocument, variables, options) as Promise<Operations.LogInMutation>;
    },
    LogOut(variables?: Operations.LogOutMutationVariables, options?: C): Promise<Operations.LogOutMutation> {
      return requester<Operations.LogOutMutation, Operations.LogOutMutationVariables>(Operations.LogOutDocument, variables, options) as Promise<Operations.LogOutMutation>;
    },
    DemoSignIn(variables?: Operations.DemoSignInQueryVariables, options?: C): Promise<Operations.DemoSignInQuery> {
      return requester<Operations.DemoSignInQuery, Operations.DemoSignInQueryVariables>(Operations.DemoSignInDocument, variables, options) as Promise<Operations.DemoSignInQuery>;
    },
    Webhooks(variables: Operations.WebhooksQueryVariables, options?: C): Promise<Operations.WebhooksQuery> {
      return requester<Operations.WebhooksQuery, Operations.WebhooksQueryVariables>(Operations.WebhooksDocument, variables, options) as Promise<Operations.WebhooksQuery>;
    },
    WebhookDeliveries(variables: Operations.WebhookDeliveriesQueryVariables, options?: C): Promise<Operations.WebhookDeliveriesQuery> {
      return requester<Operations.WebhookDeliveriesQuery, Operations.WebhookDeliveriesQueryVariables>(Operations.WebhookDeliveriesDocument, variables, options) as Promise<Operations.WebhookDeliveriesQuery>;
    },
    CreateWebhook(variables: Operations.CreateWebhookMutationVariables, options?: C): Promise<Operations.CreateWebhookMutation> {
      return requester<Operations.CreateWebhookMutation, Operations.CreateWebhookMutationVariables>(Operations.CreateWebhookDocument, variables, options) as Promise<Operations.CreateWebhookMutation>;
    },
    UpdateWebhook(variables: Operations.UpdateWebhookMutationVariables, options?: C): Promise<Operations.UpdateWebhookMutation> {
      return requester<Operations.UpdateWebhookMutation, Operations.UpdateWebhookMutationVariables>(Operations.UpdateWebhookDocument, variables, options) as Promise<Operations.UpdateWebhookMutation>;
    },
    DeleteWebhook(variables: Operations.DeleteWebhookMutationVariables, options?: C): Promise<Operations.DeleteWebhookMutation> {
      return requester<Operations.DeleteWebhookMutation, Operations.DeleteWebhookMutationVariables>(Operations.DeleteWebhookDocument, variables, options) as Promise<Operations.DeleteWebhookMutation>;
    },
    TestWebhook(variables: Operations.TestWebhookMutationVariables, options?: C): Promise<Operations.TestWebhookMutation> {
      return requester<Operations.TestWebhookMutation, Operations.TestWebhookMutationVariables>(Operations.TestWebhookDocument, variables, options) as Promise<Operations.TestWebhookMutation>;
    }
  };
}
export type Sdk = ReturnType<typeof getSdk>;