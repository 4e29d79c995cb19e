import type { Context } from '../../context.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { accessCache } from './invalidation.ts';

/**
 * The organization of a live prompt or flow, by id: all that a member's authorization and the
 * Integrate tab need of it. From the access cache (key-cache.ts), else the request's loader (null
 * when there is no live one). A prompt or flow never moves to another organization, and deleting
 * one drops its entry (prompt.service.ts and flow.service.ts call invalidateAccess): a deleted one
 * is not found on the very next request on this replica, and within a second on the others.
 */
export async function liveResourceOwner(ctx: Context, kind: 'prompt' | 'flow', id: string): Promise<{ id: string; organization: string } | null> {
  const owners = accessCache(ctx.rootEm).owners;
  const name = `${kind}:${id}`;
  const organization =
    owners.get(name) ?? (await owners.fill(name, async () => (kind === 'prompt' ? await PromptRef.getDataloader(ctx).load(id) : await FlowRef.getDataloader(ctx).load(id))?.organization));
  return organization ? { id, organization } : null;
}
