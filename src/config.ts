import Ajv from 'ajv';

/**
 * The one place that reads process.env. Every variable is declared here with its default and its
 * meaning (the README table is checked against this list), validated once at start-up; a bad or
 * missing value stops the process with a message naming the variable.
 */

export type NodeEnv = 'development' | 'test' | 'production';

export interface EncryptionKey {
  version: string;
  key: Buffer;
}

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  publicUrl: string;
  frontendUrl: string;
  allowedOrigins: string[];
  databaseUrl: string;
  databasePoolMax: number;
  redisUrl: string;
  redisPrefix: string;
  logLevel: string;
  logPretty: boolean;
  trustProxy: boolean;
  sessionKeys: string[];
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  encryptionKeys: EncryptionKey[];
  encryptionCurrentKey: EncryptionKey;
  blindIndexKey: Buffer;
  adminEmails: string[];
  rateLimits: {
    perIpPerMinute: number;
    perUserPerMinute: number;
    signInPerMinute: number;
  };
  sandboxEnabled: boolean;
  google: {
    clientId: string;
    clientSecret: string;
    authUrl: string;
    tokenUrl: string;
    userinfoUrl: string;
    revokeUrl: string;
    certsPemUrl: string;
    certsJwkUrl: string;
    gmailRootUrl: string;
    pubsubTopic: string;
    pushAudience: string;
    pushServiceAccount: string;
  };
  llm: {
    baseUrl: string;
    apiKey: string;
    model: string;
    timeoutMs: number;
    maxRetries: number;
    historyMessages: number;
  };
  worker: {
    concurrency: number;
    lockMs: number;
    jobAttempts: number;
    jobBackoffMs: number;
  };
  pipeline: {
    reconcileIntervalSeconds: number;
    watchRenewIntervalHours: number;
    resyncMaxMessages: number;
    gmailMaxRetries: number;
    replySendLeaseSeconds: number;
    replyCapPerContactPerDay: number;
    replyCapPerThreadPerHour: number;
    manualReplyPauseMinutes: number;
  };
  pubsub: {
    subscription: string;
    apiEndpoint: string;
    sandboxPort: number;
  };
  operations: {
    metricsToken: string;
    workerMetricsPort: number;
    workerMetricsHost: string;
    sentryDsn: string;
    sentryEnvironment: string;
    shutdownTimeoutMs: number;
  };
}

type Env = Record<string, string | undefined>;

export interface VariableSpec {
  name: string;
  /** The default; a function derives it from the values resolved before it (the README shows each). */
  default?: string | ((v: Record<string, string>) => string);
  description: string;
  pattern?: string;
  enum?: string[];
  /** Required when this returns true for the resolved values (and no default applies). */
  requiredWhen?: (v: Record<string, string>) => boolean;
  secret?: boolean;
}

const BASE64_32 = '^[A-Za-z0-9+/_-]{43}=?$';
const sandboxOn = (v: Record<string, string>) => v.GOOGLE_CLIENT_ID === '';
const sandboxOff = (v: Record<string, string>) => !sandboxOn(v);
const sandboxUrl = (path: string) => (v: Record<string, string>) =>
  sandboxOn(v) ? `${v.PUBLIC_URL}/sandbox${path}` : '';

export const VARIABLES: VariableSpec[] = [
  { name: 'NODE_ENV', default: 'development', enum: ['development', 'test', 'production'], description: 'Runtime mode. `production` refuses the sandbox and development secrets.' },
  { name: 'PORT', default: '3000', pattern: '^[0-9]{1,5}$', description: 'HTTP port of the web process (0 picks a free port).' },
  { name: 'PUBLIC_URL', default: (v) => `http://localhost:${v.PORT}`, pattern: '^https?://[^/]+$', description: 'Origin where this server is reached: OAuth callback, Pub/Sub push target and audience.' },
  { name: 'FRONTEND_URL', default: (v) => v.PUBLIC_URL!, pattern: '^https?://', description: 'Where sign-in lands. Its origin and PUBLIC_URL are the origins allowed to call the API with cookies.' },
  { name: 'DATABASE_URL', default: 'postgres://postgres@127.0.0.1:5432/gmail_assistant', pattern: '^postgres(ql)?://', description: 'PostgreSQL connection string.' },
  { name: 'DATABASE_POOL_MAX', default: '10', pattern: '^[1-9][0-9]*$', description: 'Largest number of PostgreSQL connections per process.' },
  { name: 'REDIS_URL', default: 'redis://127.0.0.1:6379/0', pattern: '^rediss?://', description: 'Redis connection string; a database index in the path is honoured.' },
  { name: 'REDIS_PREFIX', default: 'ga', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Prefix of every Redis key (queues, sessions, locks), so several deployments can share one Redis.' },
  { name: 'LOG_LEVEL', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'Lowest log level written.' },
  { name: 'LOG_PRETTY', default: (v) => (v.NODE_ENV === 'development' ? 'true' : 'false'), enum: ['true', 'false'], description: 'Human-readable logs instead of JSON lines.' },
  { name: 'TRUST_PROXY', default: 'false', enum: ['true', 'false'], description: 'Trust X-Forwarded-* headers (set when behind a TLS-terminating proxy).' },
  { name: 'SESSION_KEYS', requiredWhen: () => true, pattern: '^[^,]{32,}(,[^,]{32,})*$', secret: true, description: 'Comma-separated secrets (32+ characters each) that sign the session cookie; the first signs, all verify.' },
  { name: 'SESSION_IDLE_MINUTES', default: '120', pattern: '^[1-9][0-9]*$', description: 'A session unused for this long ends.' },
  { name: 'SESSION_ABSOLUTE_HOURS', default: '168', pattern: '^[1-9][0-9]*$', description: 'A session ends this long after sign-in, used or not.' },
  { name: 'ENCRYPTION_KEYS', requiredWhen: () => true, pattern: '^[A-Za-z0-9]{1,16}:[A-Za-z0-9+/_-]{43}=?(,[A-Za-z0-9]{1,16}:[A-Za-z0-9+/_-]{43}=?)*$', secret: true, description: 'Field-encryption keys as `version:base64(32 bytes)`, comma-separated. Old versions stay listed until re-encrypted.' },
  { name: 'ENCRYPTION_CURRENT_KEY', default: (v) => v.ENCRYPTION_KEYS!.split(',').at(-1)!.split(':')[0]!, pattern: '^[A-Za-z0-9]{1,16}$', description: 'Version of the key that encrypts new values.' },
  { name: 'BLIND_INDEX_KEY', requiredWhen: () => true, pattern: BASE64_32, secret: true, description: 'base64 of 32 bytes; keys the HMAC that lets contacts be found by email. Separate from the encryption keys.' },
  { name: 'ADMIN_EMAILS', default: '', pattern: '^[^,\\s]*(,[^,\\s]+)*$', description: 'Comma-separated Google accounts allowed into Bull Board and the admin endpoints.' },
  { name: 'RATE_LIMIT_PER_IP_PER_MINUTE', default: '600', pattern: '^[1-9][0-9]*$', description: 'Requests per minute from one IP address (the Pub/Sub webhook and health probes are not counted); more answer 429.' },
  { name: 'RATE_LIMIT_PER_USER_PER_MINUTE', default: '300', pattern: '^[1-9][0-9]*$', description: 'Requests per minute to /api by one signed-in user; more answer 429.' },
  { name: 'RATE_LIMIT_SIGN_IN_PER_MINUTE', default: '20', pattern: '^[1-9][0-9]*$', description: 'Sign-in requests (/auth/google and its callback) per minute from one IP address; more answer 429.' },
  { name: 'GOOGLE_CLIENT_ID', default: '', description: 'OAuth client id. Empty turns the sandbox on (never in production).' },
  { name: 'GOOGLE_CLIENT_SECRET', default: (v) => (sandboxOn(v) ? 'sandbox-client-secret' : ''), requiredWhen: sandboxOff, secret: true, description: 'OAuth client secret.' },
  { name: 'GOOGLE_AUTH_URL', default: (v) => sandboxUrl('/oauth2/auth')(v) || 'https://accounts.google.com/o/oauth2/v2/auth', pattern: '^https?://', description: 'OAuth authorization endpoint.' },
  { name: 'GOOGLE_TOKEN_URL', default: (v) => sandboxUrl('/oauth2/token')(v) || 'https://oauth2.googleapis.com/token', pattern: '^https?://', description: 'OAuth token endpoint.' },
  { name: 'GOOGLE_USERINFO_URL', default: (v) => sandboxUrl('/oauth2/v3/userinfo')(v) || 'https://www.googleapis.com/oauth2/v3/userinfo', pattern: '^https?://', description: 'OpenID userinfo endpoint.' },
  { name: 'GOOGLE_REVOKE_URL', default: (v) => sandboxUrl('/oauth2/revoke')(v) || 'https://oauth2.googleapis.com/revoke', pattern: '^https?://', description: 'OAuth token revocation endpoint.' },
  { name: 'GOOGLE_CERTS_PEM_URL', default: (v) => sandboxUrl('/oauth2/v1/certs')(v) || 'https://www.googleapis.com/oauth2/v1/certs', pattern: '^https?://', description: "Google's signing keys (PEM) used to verify OIDC tokens." },
  { name: 'GOOGLE_CERTS_JWK_URL', default: (v) => sandboxUrl('/oauth2/v3/certs')(v) || 'https://www.googleapis.com/oauth2/v3/certs', pattern: '^https?://', description: "Google's signing keys (JWK)." },
  { name: 'GMAIL_API_ROOT_URL', default: (v) => (sandboxOn(v) ? `${v.PUBLIC_URL}/` : 'https://gmail.googleapis.com/'), pattern: '^https?://[^/]+/$', description: 'Origin of the Gmail REST API, ending in "/" (the client keeps only the origin; the sandbox serves Google\'s paths on this server).' },
  { name: 'GMAIL_PUBSUB_TOPIC', default: (v) => (sandboxOn(v) ? 'projects/sandbox-project/topics/gmail-push' : ''), requiredWhen: sandboxOff, pattern: '^projects/[^/]+/topics/[^/]+$', description: 'Pub/Sub topic that Gmail watch publishes to.' },
  { name: 'PUBSUB_PUSH_AUDIENCE', default: (v) => `${v.PUBLIC_URL}/webhooks/gmail`, description: 'Audience expected in the push OIDC token (as configured on the push subscription).' },
  { name: 'PUBSUB_PUSH_SERVICE_ACCOUNT', default: (v) => (sandboxOn(v) ? 'gmail-push@sandbox-project.iam.gserviceaccount.com' : ''), requiredWhen: sandboxOff, pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Service account email expected in the push OIDC token.' },
  { name: 'OPENAI_BASE_URL', default: (v) => sandboxUrl('/openai/v1')(v) || 'https://api.openai.com/v1', pattern: '^https?://', description: 'Any OpenAI-compatible chat-completions endpoint.' },
  { name: 'OPENAI_API_KEY', default: (v) => (sandboxOn(v) ? 'sandbox-llm-key' : ''), requiredWhen: sandboxOff, secret: true, description: 'API key of the LLM endpoint.' },
  { name: 'OPENAI_MODEL', default: 'gpt-4o-mini', description: 'Chat model name.' },
  { name: 'LLM_TIMEOUT_MS', default: '30000', pattern: '^[1-9][0-9]*$', description: 'Timeout of one LLM call.' },
  { name: 'LLM_MAX_RETRIES', default: '2', pattern: '^[0-9]$', description: 'Retries of one LLM call on 429, 5xx and timeouts (with backoff) before the reply job attempt fails.' },
  { name: 'LLM_HISTORY_MESSAGES', default: '20', pattern: '^[1-9][0-9]*$', description: 'How many earlier messages with the contact go into the prompt.' },
  { name: 'WORKER_CONCURRENCY', default: '5', pattern: '^[1-9][0-9]*$', description: 'Jobs each worker process runs at once per queue.' },
  { name: 'WORKER_LOCK_MS', default: '30000', pattern: '^[1-9][0-9]{3,}$', description: 'How long a job stays locked to a worker without a heartbeat; a job of a worker that died is picked up again after about this long.' },
  { name: 'JOB_ATTEMPTS', default: '6', pattern: '^[1-9][0-9]?$', description: 'Attempts of a job (a sync, a reply, a watch) before it fails for good; a reply that fails for good is marked failed with its reason.' },
  { name: 'JOB_BACKOFF_MS', default: '2000', pattern: '^[1-9][0-9]*$', description: 'Wait before the second attempt of a failed job; it doubles at each further attempt.' },
  { name: 'RECONCILE_INTERVAL_SECONDS', default: '300', pattern: '^[1-9][0-9]*$', description: 'Every this often each connected mailbox is synced even if no push came, and replies stuck in the queue are queued again.' },
  { name: 'WATCH_RENEW_INTERVAL_HOURS', default: '24', pattern: '^[1-9][0-9]*$', description: 'Every this often the Gmail watch of each connected mailbox is renewed (Gmail drops a watch after 7 days).' },
  { name: 'RESYNC_MAX_MESSAGES', default: '500', pattern: '^[1-9][0-9]*$', description: 'When Gmail no longer has the history since the cursor, at most this many inbox messages since the last processed one are read again.' },
  { name: 'GMAIL_MAX_RETRIES', default: '3', pattern: '^[0-9]{1,2}$', description: 'Retries of one Gmail call on 429, rate-limit 403 and 5xx (jittered backoff, Retry-After honoured) before the job attempt fails.' },
  { name: 'REPLY_SEND_LEASE_SECONDS', default: '120', pattern: '^[1-9][0-9]*$', description: 'How long a reply being sent is leased to one worker; after it, another run checks Gmail for the reply before sending it.' },
  { name: 'REPLY_CAP_PER_CONTACT_PER_DAY', default: '20', pattern: '^[0-9]+$', description: 'Most replies sent to one contact in 24 hours; more are skipped (0: no replies).' },
  { name: 'REPLY_CAP_PER_THREAD_PER_HOUR', default: '5', pattern: '^[0-9]+$', description: 'Most replies sent into one thread in an hour; more are skipped (0: no replies).' },
  { name: 'MANUAL_REPLY_PAUSE_MINUTES', default: '1440', pattern: '^[0-9]+$', description: 'After the user writes to a contact by hand from Gmail, the assistant leaves that conversation alone for this long.' },
  { name: 'PUBSUB_SUBSCRIPTION', default: '', pattern: '^projects/[^/]+/subscriptions/[^/]+$', description: 'Pub/Sub pull subscription (`projects/<project>/subscriptions/<name>`) that the worker reads Gmail notifications from, besides the push webhook. Empty: push only.' },
  { name: 'SANDBOX_PUBSUB_PORT', default: '8085', pattern: '^[0-9]{1,5}$', description: "Port of the sandbox's gRPC Pub/Sub on 127.0.0.1, started by the web process when the sandbox is on and PUBSUB_SUBSCRIPTION is set (0 picks a free port)." },
  { name: 'PUBSUB_API_ENDPOINT', default: (v) => (sandboxOn(v) && v.PUBSUB_SUBSCRIPTION ? `127.0.0.1:${v.SANDBOX_PUBSUB_PORT}` : ''), pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', description: "host:port of the Pub/Sub API for pulling; empty: Google's. With the sandbox, its local gRPC Pub/Sub (plain text, loopback only)." },
  { name: 'METRICS_TOKEN', default: '', pattern: '^[\\x21-\\x7e]{16,}$', secret: true, description: 'Bearer token (16+ characters) that a scraper must send to read /metrics on web and worker. Empty: /metrics answers without one, except on the web port in production, where it is then off (404).' },
  { name: 'WORKER_METRICS_PORT', default: '9464', pattern: '^[0-9]{1,5}$', description: "Port of the worker process's own HTTP listener: /metrics, /livez and /readyz (0 picks a free port). `npm start` has none: its web port serves them." },
  { name: 'WORKER_METRICS_HOST', default: '0.0.0.0', pattern: '^[0-9A-Za-z.:-]+$', description: "Address that the worker's HTTP listener binds to (127.0.0.1 keeps it on the machine)." },
  { name: 'SENTRY_DSN', default: '', pattern: '^https?://[A-Za-z0-9_]+(:[A-Za-z0-9_]*)?@[A-Za-z0-9.-]+(:[0-9]+)?(/[^/?#]+)*/[0-9]+$', secret: true, description: 'Sentry DSN: HTTP 5xx errors and jobs failed for good are reported there, scrubbed of tokens, addresses and content. Empty: no error tracking, nothing sent anywhere.' },
  { name: 'SENTRY_ENVIRONMENT', default: (v) => v.NODE_ENV!, pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Environment name attached to the error reports.' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '25000', pattern: '^[1-9][0-9]{2,}$', description: 'On SIGTERM, how long in-flight requests and jobs may take to finish before the process exits anyway (a job cut off is run again by another worker after WORKER_LOCK_MS).' },
];

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`Configuration error: ${variable} ${problem}`);
  }
}

const ajv = new Ajv({ allErrors: false });

function resolveRaw(env: Env): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const spec of VARIABLES) {
    const given = env[spec.name];
    let value: string | undefined = given !== undefined && given !== '' ? given : undefined;
    if (value === undefined && spec.default !== undefined) {
      value = typeof spec.default === 'function' ? spec.default(resolved) : spec.default;
    }
    if ((value === undefined || value === '') && spec.requiredWhen?.(resolved)) {
      throw new ConfigError(spec.name, 'is required but not set');
    }
    value = value ?? '';
    if (value !== '') {
      const schema: Record<string, unknown> = { type: 'string' };
      if (spec.pattern) schema.pattern = spec.pattern;
      if (spec.enum) schema.enum = spec.enum;
      if (!ajv.validate(schema, value)) {
        const shown = spec.secret ? '(value hidden)' : JSON.stringify(withoutUserInfo(value));
        const expected = spec.enum ? `one of ${spec.enum.join(', ')}` : `a value matching ${spec.pattern}`;
        throw new ConfigError(spec.name, `is invalid ${shown}: expected ${expected}`);
      }
    }
    resolved[spec.name] = value;
  }
  return resolved;
}

function decodeKey(variable: string, b64: string): Buffer {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) throw new ConfigError(variable, 'must hold base64 of exactly 32 bytes');
  return key;
}

function originOf(url: string): string {
  return new URL(url).origin;
}

export function loadConfig(env: Env = process.env): Config {
  const v = resolveRaw(env);
  const nodeEnv = v.NODE_ENV as NodeEnv;
  const sandboxEnabled = v.GOOGLE_CLIENT_ID === '';
  if (sandboxEnabled && nodeEnv === 'production') {
    throw new ConfigError('GOOGLE_CLIENT_ID', 'is required in production (the sandbox never runs with NODE_ENV=production)');
  }

  const encryptionKeys = v.ENCRYPTION_KEYS!.split(',').map((entry) => {
    const [version, b64] = entry.split(':') as [string, string];
    return { version, key: decodeKey('ENCRYPTION_KEYS', b64) };
  });
  const versions = new Set(encryptionKeys.map((k) => k.version));
  if (versions.size !== encryptionKeys.length) throw new ConfigError('ENCRYPTION_KEYS', 'lists a key version twice');
  const encryptionCurrentKey = encryptionKeys.find((k) => k.version === v.ENCRYPTION_CURRENT_KEY);
  if (!encryptionCurrentKey) throw new ConfigError('ENCRYPTION_CURRENT_KEY', `names version "${v.ENCRYPTION_CURRENT_KEY}" that ENCRYPTION_KEYS does not hold`);
  const blindIndexKey = decodeKey('BLIND_INDEX_KEY', v.BLIND_INDEX_KEY!);
  if (encryptionKeys.some((k) => k.key.equals(blindIndexKey))) {
    throw new ConfigError('BLIND_INDEX_KEY', 'must differ from every encryption key');
  }

  const publicUrl = v.PUBLIC_URL!;
  const frontendUrl = v.FRONTEND_URL!;
  return {
    nodeEnv,
    port: Number(v.PORT),
    publicUrl,
    frontendUrl,
    allowedOrigins: [...new Set([originOf(frontendUrl), originOf(publicUrl)])],
    databaseUrl: v.DATABASE_URL!,
    databasePoolMax: Number(v.DATABASE_POOL_MAX),
    redisUrl: v.REDIS_URL!,
    redisPrefix: v.REDIS_PREFIX!,
    logLevel: v.LOG_LEVEL!,
    logPretty: v.LOG_PRETTY === 'true',
    trustProxy: v.TRUST_PROXY === 'true',
    sessionKeys: v.SESSION_KEYS!.split(','),
    sessionIdleMinutes: Number(v.SESSION_IDLE_MINUTES),
    sessionAbsoluteHours: Number(v.SESSION_ABSOLUTE_HOURS),
    encryptionKeys,
    encryptionCurrentKey,
    blindIndexKey,
    adminEmails: v.ADMIN_EMAILS ? v.ADMIN_EMAILS.split(',').map((e) => e.trim().toLowerCase()) : [],
    rateLimits: {
      perIpPerMinute: Number(v.RATE_LIMIT_PER_IP_PER_MINUTE),
      perUserPerMinute: Number(v.RATE_LIMIT_PER_USER_PER_MINUTE),
      signInPerMinute: Number(v.RATE_LIMIT_SIGN_IN_PER_MINUTE),
    },
    sandboxEnabled,
    google: {
      clientId: sandboxEnabled ? 'sandbox-client-id.apps.googleusercontent.com' : v.GOOGLE_CLIENT_ID!,
      clientSecret: v.GOOGLE_CLIENT_SECRET!,
      authUrl: v.GOOGLE_AUTH_URL!,
      tokenUrl: v.GOOGLE_TOKEN_URL!,
      userinfoUrl: v.GOOGLE_USERINFO_URL!,
      revokeUrl: v.GOOGLE_REVOKE_URL!,
      certsPemUrl: v.GOOGLE_CERTS_PEM_URL!,
      certsJwkUrl: v.GOOGLE_CERTS_JWK_URL!,
      gmailRootUrl: v.GMAIL_API_ROOT_URL!,
      pubsubTopic: v.GMAIL_PUBSUB_TOPIC!,
      pushAudience: v.PUBSUB_PUSH_AUDIENCE!,
      pushServiceAccount: v.PUBSUB_PUSH_SERVICE_ACCOUNT!,
    },
    llm: {
      baseUrl: v.OPENAI_BASE_URL!,
      apiKey: v.OPENAI_API_KEY!,
      model: v.OPENAI_MODEL!,
      timeoutMs: Number(v.LLM_TIMEOUT_MS),
      maxRetries: Number(v.LLM_MAX_RETRIES),
      historyMessages: Number(v.LLM_HISTORY_MESSAGES),
    },
    worker: {
      concurrency: Number(v.WORKER_CONCURRENCY),
      lockMs: Number(v.WORKER_LOCK_MS),
      jobAttempts: Number(v.JOB_ATTEMPTS),
      jobBackoffMs: Number(v.JOB_BACKOFF_MS),
    },
    pipeline: {
      reconcileIntervalSeconds: Number(v.RECONCILE_INTERVAL_SECONDS),
      watchRenewIntervalHours: Number(v.WATCH_RENEW_INTERVAL_HOURS),
      resyncMaxMessages: Number(v.RESYNC_MAX_MESSAGES),
      gmailMaxRetries: Number(v.GMAIL_MAX_RETRIES),
      replySendLeaseSeconds: Number(v.REPLY_SEND_LEASE_SECONDS),
      replyCapPerContactPerDay: Number(v.REPLY_CAP_PER_CONTACT_PER_DAY),
      replyCapPerThreadPerHour: Number(v.REPLY_CAP_PER_THREAD_PER_HOUR),
      manualReplyPauseMinutes: Number(v.MANUAL_REPLY_PAUSE_MINUTES),
    },
    pubsub: {
      subscription: v.PUBSUB_SUBSCRIPTION!,
      apiEndpoint: v.PUBSUB_API_ENDPOINT!,
      sandboxPort: Number(v.SANDBOX_PUBSUB_PORT),
    },
    operations: {
      metricsToken: v.METRICS_TOKEN!,
      workerMetricsPort: Number(v.WORKER_METRICS_PORT),
      workerMetricsHost: v.WORKER_METRICS_HOST!,
      sentryDsn: v.SENTRY_DSN!,
      sentryEnvironment: v.SENTRY_ENVIRONMENT!,
      shutdownTimeoutMs: Number(v.SHUTDOWN_TIMEOUT_MS),
    },
  };
}

/** A URL-like value shown in an error without its `user:password@` part (database and Redis URLs carry one). */
function withoutUserInfo(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1[credentials hidden]@');
}
