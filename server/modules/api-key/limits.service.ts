import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../auth/principal.ts';
import { conflict } from '../../errors.ts';
import { invalidateAccess } from '../access/invalidation.ts';
import { recordUpdate } from '../audit/audit.service.ts';
import type { ApiKey } from './api-key.entity.ts';
import { getApiKeyForUpdate } from './api-key.service.ts';
import { seedMonthlyCount } from '../run/quota.ts';
import { applyLimits, checkLimits, limitsOf, type LimitsInput } from './limits.ts';

/**
 * Replaces a key's limits as a whole (an absent or null field clears that limit), audited as
 * api_key.limits_updated with the limits before and after. The key cache is told, so every replica
 * enforces the new limits from its next request.
 */
export async function updateApiKeyLimits(em: EntityManager, actor: Principal, input: LimitsInput & { apiKeyId: string }): Promise<ApiKey> {
  const next = checkLimits(input);
  return em.transactional(async (tx) => {
    const key = await getApiKeyForUpdate(tx, input.apiKeyId);
    if (key.revokedAt) throw conflict(`API key ${key.id} is revoked; revocation is final, create a new key instead`);
    const before = limitsOf(key);
    if (!recordUpdate(tx, actor, { organizationId: key.organization, action: 'api_key.limits_updated', targetId: key.id, before: { ...before }, after: { ...next }, stamp: key })) {
      return key;
    }
    await invalidateAccess(tx, `key:${key.id}`);
    applyLimits(key, next);
    await tx.flush();
    // A quota where there was none: count this month's runs so far (run/quota.ts).
    const hadQuota = before.monthlyRunQuota != null || before.monthlyTokenQuota != null;
    if (!hadQuota && (next.monthlyRunQuota != null || next.monthlyTokenQuota != null)) await seedMonthlyCount(tx, key.id, new Date());
    return key;
  });
}
