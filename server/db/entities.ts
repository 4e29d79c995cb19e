import {
  ApiKeyFlowGrantSchema,
  ApiKeyPromptGrantSchema,
  ApiKeySchema,
  ApiKeyMonthlyUsageSchema,
  ApiKeySecretSchema,
} from '../modules/api-key/api-key.entity.ts';
import { KeyAccessCountSchema, KeyAccessExpiryCountSchema, KeyAccessSchema } from '../modules/access/access-index.entity.ts';
import { RunSchema, RunStepSchema } from '../modules/run/run.entity.ts';
import { AuditEventSchema } from '../modules/audit/audit.entity.ts';
import { WebhookDeliverySchema, WebhookSchema } from '../modules/webhook/webhook.entity.ts';
import { FlowSchema, FlowStepSchema } from '../modules/flow/flow.entity.ts';
import { MembershipSchema, OrganizationSchema } from '../modules/organization/organization.entity.ts';
import { PromptSchema } from '../modules/prompt/prompt.entity.ts';
import { SessionSchema, UserSchema } from '../modules/user/user.entity.ts';

/** Every entity the ORM maps; the migrations are generated from this list. */
export const entities = [
  UserSchema,
  SessionSchema,
  OrganizationSchema,
  MembershipSchema,
  PromptSchema,
  FlowSchema,
  FlowStepSchema,
  ApiKeySchema,
  ApiKeySecretSchema,
  ApiKeyPromptGrantSchema,
  ApiKeyFlowGrantSchema,
  ApiKeyMonthlyUsageSchema,
  KeyAccessSchema,
  KeyAccessCountSchema,
  KeyAccessExpiryCountSchema,
  RunSchema,
  RunStepSchema,
  AuditEventSchema,
  WebhookSchema,
  WebhookDeliverySchema,
];
