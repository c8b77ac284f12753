/** Schemas of the routes around the API: root, health, the Pub/Sub push, the documentation. */

export const rootResponse = {
  type: 'object',
  properties: {
    service: { type: 'string' },
    links: { type: 'object', additionalProperties: { type: 'string' } },
    sandbox: { type: 'boolean', description: 'Whether the Google/LLM sandbox is on.' },
  },
  required: ['service', 'links', 'sandbox'],
} as const;

export const livenessResponse = {
  type: 'object',
  properties: { status: { const: 'ok' } },
  required: ['status'],
} as const;

export const readinessResponse = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable', 'draining'], description: '`draining`: the process is shutting down.' },
    checks: { type: 'object', additionalProperties: { type: 'string', enum: ['ok', 'unavailable'] }, description: 'Each dependency (postgres, redis) and whether it answered.' },
  },
  required: ['status', 'checks'],
} as const;

/** What Pub/Sub pushes; `data` is base64 of Gmail's JSON `{emailAddress, historyId}`. */
export const pushEnvelope = {
  type: 'object',
  properties: {
    message: {
      type: 'object',
      properties: {
        data: { type: 'string', contentEncoding: 'base64', description: 'base64 of `{"emailAddress": "...", "historyId": "..."}`' },
        messageId: { type: 'string' },
        publishTime: { type: 'string', format: 'date-time' },
        attributes: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['data'],
    },
    subscription: { type: 'string' },
  },
  required: ['message'],
} as const;

export const openApiDocument = {
  type: 'object',
  properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } },
  required: ['openapi', 'info', 'paths'],
  description: 'This document.',
} as const;

export const signInQuery = {
  type: 'object',
  properties: {
    login_hint: { type: 'string', maxLength: 320, description: 'An email address passed to Google (with the sandbox: signs in as it without a form).' },
    prompt: { type: 'string', maxLength: 64, description: '`consent` asks Google for consent again.' },
  },
} as const;

export const signInCallbackQuery = {
  type: 'object',
  properties: {
    code: { type: 'string', maxLength: 4096 },
    state: { type: 'string', maxLength: 1024 },
    error: { type: 'string', maxLength: 256, description: 'Set by Google when the user refused.' },
  },
} as const;

export const docsAssetParams = {
  type: 'object',
  properties: { file: { type: 'string', pattern: '^[a-z0-9-]+\\.(js|css|png|svg|jpg|gif)$', maxLength: 64 } },
  required: ['file'],
  additionalProperties: false,
} as const;
