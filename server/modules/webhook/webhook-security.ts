import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DatabaseConfig, WebhookConfig } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { secretBox } from './webhook-crypto.ts';
import type { WebhookSecurity } from './webhook.service.ts';

/**
 * The app's webhook security from its configuration. Without a secret key (an app built by a test
 * that sets none) a random one is made for this process: secrets sealed with it open nowhere else.
 */
export function webhookSecurity(config: Pick<WebhookConfig, 'allowInsecure' | 'secretKey'> | undefined): WebhookSecurity {
  return { allowInsecure: config?.allowInsecure ?? false, box: secretBox(config?.secretKey ?? randomBytes(32).toString('base64')) };
}

/** Where the development key is kept: the data directory of the working directory (gitignored). */
const DATA_DIR = './data';

/**
 * WEBHOOK_SECRET_KEY, or for development a random key generated once into ./data and read from
 * there on every start. Replicas on PostgreSQL
 * must share one key: set WEBHOOK_SECRET_KEY; the server warns when it falls back to the file.
 */
export function resolveWebhookSecretKey(config: WebhookConfig, database: DatabaseConfig, logger: Logger): string {
  if (config.secretKey) return config.secretKey;
  const dir = DATA_DIR;
  const file = join(dir, 'webhook-secret.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process starting at the same moment wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (database.dialect === 'postgresql') {
    logger.warn(`WEBHOOK_SECRET_KEY is not set: webhook secrets are encrypted with ${file}; set WEBHOOK_SECRET_KEY, the same on every replica`);
  }
  return readFileSync(file, 'utf8').trim();
}
