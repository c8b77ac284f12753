import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createKnex } from '../db/knex';
import { FieldCipher } from '../crypto/field-cipher';
import { BlindIndex } from '../crypto/blind-index';
import { createQueues, type Queues } from '../jobs/queues';
import { createOAuthClient } from '../gmail/oauth-client';
import { createConnectionStore } from '../gmail/connections';
import { createGmailClients } from '../gmail/client';
import { createAccessTokens } from '../gmail/access-tokens';
import { createGmailCaller } from '../gmail/retry';
import { createPushVerifier } from '../gmail/push-auth';
import { createLlmClient } from '../ai/llm';
import { createAuditLog } from '../services/audit';
import { createUsersService } from '../services/users';
import { createContactsService } from '../services/contacts';
import { createMessageHistoryService } from '../services/message-history';
import { createConversationsService } from '../services/conversations';
import { createPushService } from '../services/gmail-push';
import { createWatchService } from '../services/gmail-watch';
import { createMailboxSyncService } from '../services/mailbox-sync';
import { createRepliesService } from '../services/replies';
import { createMailRecorder } from '../services/mail-recorder';
import { createMaintenanceService } from '../services/maintenance';
import { createAccountDeletion } from '../services/account-deletion';
import { createAuditTrail } from '../services/audit-trail';
import { createMetrics } from '../observability/metrics';
import { createErrorReporter } from '../observability/error-reporter';
import { QUEUE_STATES } from '../observability/metrics';

/** Redis connection options that BullMQ workers need (blocking commands must not time out). */
export function redisOptions(url: string) {
  return { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...parseRedisUrl(url) };
}

function parseRedisUrl(url: string) {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Builds every shared dependency once per process: connections, crypto, queues and the services.
 * Web, worker and the all-in-one dev process take what they need from it.
 */
export function createContainer(config: Config, logger: Logger) {
  const db: Knex = createKnex({ databaseUrl: config.databaseUrl, poolMax: config.databasePoolMax });
  const redis = new Redis(redisOptions(config.redisUrl));
  redis.on('error', (err: Error) => logger.warn({ err: { name: err.name, message: err.message } }, 'redis connection error'));
  const queues: Queues = createQueues(redisOptions(config.redisUrl), config.redisPrefix, { attempts: config.worker.jobAttempts, backoffMs: config.worker.jobBackoffMs }, (err) =>
    logger.warn({ err: { name: err.name, message: err.message } }, 'queue connection error'),
  );
  const cipher = new FieldCipher(config.encryptionKeys, config.encryptionCurrentKey);
  const blindIndex = new BlindIndex(config.blindIndexKey);
  const oauthClient = createOAuthClient(config);
  const connections = createConnectionStore(db, cipher);
  const audit = createAuditLog(db);
  const llm = createLlmClient(config.llm);
  const metrics = createMetrics({
    failingWatches: async () => {
      const row = await db('gmail_connections').where({ status: 'ok' }).whereNotNull('watch_error').count<{ count: string }[]>({ count: '*' }).first();
      return Number(row?.count ?? 0);
    },
    queueSizes: () => Promise.all(queues.all.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...QUEUE_STATES) }))),
    earliestWatchExpiry: async () => {
      const row = await db('gmail_connections').where({ status: 'ok' }).min<{ min: Date | null }[]>({ min: 'watch_expires_at' }).first();
      return row?.min ?? null;
    },
  });
  const errors = createErrorReporter({ dsn: config.operations.sentryDsn, environment: config.operations.sentryEnvironment, logger });
  const gmailLogger = logger.child({ component: 'gmail' });
  const gmailClients = createGmailClients({
    config,
    tokens: createAccessTokens({ connections, newOAuthClient: () => createOAuthClient(config), redis, keyPrefix: config.redisPrefix, logger: gmailLogger }),
    call: createGmailCaller({ maxRetries: config.pipeline.gmailMaxRetries }, metrics, gmailLogger),
  });

  const users = createUsersService({ db, connections, audit, newUsersSubscribed: config.sandboxEnabled });
  const watch = createWatchService({ db, gmailClients, topicName: config.google.pubsubTopic, logger, metrics });
  const recorder = createMailRecorder({ db, cipher, blindIndex, audit, logger, manualReplyPauseMinutes: config.pipeline.manualReplyPauseMinutes });
  const sync = createMailboxSyncService({ db, gmailClients, recorder, jobs: queues, logger, metrics, resyncMaxMessages: config.pipeline.resyncMaxMessages });
  const replies = createRepliesService({
    db,
    cipher,
    gmailClients,
    llm,
    audit,
    logger,
    metrics,
    historyMessages: config.llm.historyMessages,
    limits: {
      sendLeaseSeconds: config.pipeline.replySendLeaseSeconds,
      perContactPerDay: config.pipeline.replyCapPerContactPerDay,
      perThreadPerHour: config.pipeline.replyCapPerThreadPerHour,
    },
  });
  const services = {
    users,
    contacts: createContactsService({ db, cipher, blindIndex, audit }),
    history: createMessageHistoryService({ db, cipher }),
    conversations: createConversationsService({ db, cipher }),
    push: createPushService({ users, jobs: queues }),
    watch,
    sync,
    replies,
    maintenance: createMaintenanceService({ sync, replies, watch, jobs: queues, logger }),
    audit: createAuditTrail(db),
    accounts: createAccountDeletion({ db, connections, watch, jobs: queues, revokeToken: async (token) => void (await oauthClient.revokeToken(token)), audit, logger }),
  };
  const verifyPush = createPushVerifier(oauthClient, { audience: config.google.pushAudience, serviceAccount: config.google.pushServiceAccount });

  return {
    config,
    logger,
    metrics,
    errors,
    db,
    redis,
    queues,
    cipher,
    blindIndex,
    oauthClient,
    connections,
    gmailClients,
    services,
    verifyPush,
    healthChecks: {
      postgres: () => db.raw('select 1'),
      // Fails at once while disconnected, instead of queueing a PING until Redis is back.
      redis: () => (redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`redis ${redis.status}`))),
    },
    async close() {
      await queues.close();
      redis.disconnect();
      await db.destroy();
      await errors.close();
    },
  };
}

export type Container = ReturnType<typeof createContainer>;
