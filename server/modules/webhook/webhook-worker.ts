import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { WebhookConfig } from '../../config.ts';
import { isPostgres, readDate, sqlDate } from '../../db/dialect.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../logger.ts';
import { scanKeyExpiry } from './expiry-scan.ts';
import type { SecretBox } from './webhook-crypto.ts';
import { signatureHeaders } from './webhook-crypto.ts';
import { WebhookDeliverySchema, WebhookSchema, type Webhook } from './webhook.entity.ts';
import { sendWebhook } from './webhook-send.ts';

/** Deliveries one replica takes per poll. */
const BATCH = 20;
/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 3600_000;

export interface WebhookWorker {
  /** One round: the expiry scan when due, then every due delivery. Tests call it directly. */
  tick(now?: Date): Promise<void>;
  stop(): Promise<void>;
}

interface Claimed {
  id: string;
  webhookId: string;
  payload: string;
  attempts: number;
  createdAt: Date;
  event: string;
}

/** The delay before attempt n+1 after n failed ones: base, 2×base, 4×base… at most an hour. */
export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Takes the due deliveries for this replica. Each is claimed by moving its next attempt past the
 * attempt's lease in one statement: on PostgreSQL the rows are picked `for update skip locked`,
 * so replicas polling at once take disjoint rows; on SQLite (one process) the conditional update
 * is the claim. A replica killed mid-attempt leaves the row to be taken again when the lease ends.
 */
async function claimDue(em: EntityManager, now: Date, leaseMs: number): Promise<Claimed[]> {
  const lease = new Date(now.getTime() + leaseMs);
  const pick = `select id from webhook_deliveries where status = 'PENDING' and next_attempt_at <= ? order by next_attempt_at limit ${BATCH}${isPostgres(em) ? ' for update skip locked' : ''}`;
  const rows = await (em as SqlEntityManager).execute<Record<string, unknown>[]>(
    `update webhook_deliveries set next_attempt_at = ?, last_attempt_at = ?, attempts = attempts + 1
     where id in (${pick}) and status = 'PENDING' and next_attempt_at <= ?
     returning id, webhook_id, payload, attempts, created_at, event`,
    [sqlDate(em, lease), sqlDate(em, now), sqlDate(em, now), sqlDate(em, now)],
  );
  return rows.map((row) => ({
    id: row.id as string,
    webhookId: row.webhook_id as string,
    payload: row.payload as string,
    attempts: Number(row.attempts),
    createdAt: readDate(row.created_at)!,
    event: row.event as string,
  }));
}

export function startWebhookWorker(options: { orm: Orm; logger: Logger; config: WebhookConfig; box: SecretBox; autostart?: boolean }): WebhookWorker {
  const { orm, logger, config, box } = options;
  const leaseMs = config.timeoutMs * 3;
  let lastScan = 0;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function attempt(delivery: Claimed, webhook: Webhook | undefined): Promise<void> {
    const em = orm.em.fork();
    const now = new Date();
    if (!webhook || (!webhook.enabled && delivery.event !== 'PING')) {
      await em.nativeUpdate(WebhookDeliverySchema, { id: delivery.id }, { status: 'FAILED', nextAttemptAt: null, responseExcerpt: 'webhook disabled' });
      return;
    }
    const headers = signatureHeaders(box.open(webhook.secretEncrypted), delivery.id, Math.floor(now.getTime() / 1000), delivery.payload);
    const result = await sendWebhook(webhook.url, headers, delivery.payload, { timeoutMs: config.timeoutMs, allowInsecure: config.allowInsecure });
    const after = new Date();
    const common = { responseStatus: result.status, responseExcerpt: result.excerpt.slice(0, 300) };
    if (result.ok) {
      await em.nativeUpdate(WebhookDeliverySchema, { id: delivery.id }, { ...common, status: 'DELIVERED', nextAttemptAt: null });
      return;
    }
    const next = new Date(after.getTime() + backoffMs(delivery.attempts, config.retryBaseMs));
    const givenUp = next.getTime() - delivery.createdAt.getTime() > config.retryForMs;
    await em.nativeUpdate(WebhookDeliverySchema, { id: delivery.id }, givenUp ? { ...common, status: 'FAILED', nextAttemptAt: null } : { ...common, nextAttemptAt: next });
    if (givenUp) logger.warn(`webhook delivery ${delivery.id} FAILED after ${delivery.attempts} attempt(s)`);
  }

  async function round(now: Date): Promise<void> {
    // A clock that stepped back (or a test's time) scans too, rather than waiting for the old time.
    if (now.getTime() - lastScan >= config.expiryScanMs || now.getTime() < lastScan) {
      lastScan = now.getTime();
      await scanKeyExpiry(orm.em.fork(), now);
    }
    for (;;) {
      const claimed = await orm.em.fork().transactional((tx) => claimDue(tx, now, leaseMs));
      if (claimed.length === 0) return;
      // The batch's webhooks in one read, each with its current URL and secret.
      const webhookIds = [...new Set(claimed.map((delivery) => delivery.webhookId))];
      const webhooks = new Map((await orm.em.fork().find(WebhookSchema, { id: { $in: webhookIds } })).map((webhook) => [webhook.id, webhook]));
      await Promise.all(claimed.map((delivery) => attempt(delivery, webhooks.get(delivery.webhookId)).catch((error: unknown) => logger.error(`webhook delivery ${delivery.id} could not be attempted`, error))));
      if (claimed.length < BATCH || stopped) return;
      now = new Date();
    }
  }

  const worker: WebhookWorker = {
    tick(now = new Date()) {
      // One round at a time per replica; a tick during a round waits for it.
      running = (running ?? Promise.resolve()).then(() => round(now)).catch((error: unknown) => logger.error('webhook worker round failed', error));
      return running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
  const timer = setInterval(() => {
    if (!stopped) void worker.tick();
  }, config.pollMs);
  timer.unref();
  if (options.autostart === false) clearInterval(timer);
  return worker;
}
