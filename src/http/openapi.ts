import type { Access, RouteSpec } from './route-spec';
import { ALL_ROUTES } from './route-table';
import { ERROR_CODES, errorBody, errorDetail, type ErrorCode } from '../schemas/errors';
import { contactPage, contactResponse, createContactBody, updateContactBody } from '../schemas/contacts';
import { conversationPage, conversationResponse, messagePage, messageResponse } from '../schemas/history';
import { meResponse, subscriptionBody, subscriptionResponse } from '../schemas/users';
import { pushEnvelope, readinessResponse } from '../schemas/system';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../schemas/common';

type Json = Record<string, unknown>;

/** Schemas shown once under components/schemas and referred to wherever the same object is used. */
const NAMED_SCHEMAS: Record<string, object> = {
  Contact: contactResponse,
  ContactPage: contactPage,
  NewContact: createContactBody,
  ContactChanges: updateContactBody,
  Message: messageResponse,
  MessagePage: messagePage,
  Conversation: conversationResponse,
  ConversationPage: conversationPage,
  Me: meResponse,
  SubscriptionChange: subscriptionBody,
  Subscription: subscriptionResponse,
  PushEnvelope: pushEnvelope,
  Readiness: readinessResponse,
  Error: errorBody,
  ErrorDetail: errorDetail,
};
const NAME_OF = new Map<object, string>(Object.entries(NAMED_SCHEMAS).map(([name, schema]) => [schema, name]));
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A deep copy of a schema in which every named sub-schema (other than `self`) is a $ref. */
function withRefs(value: unknown, self?: object): unknown {
  if (Array.isArray(value)) return value.map((v) => withRefs(v));
  if (value === null || typeof value !== 'object') return value;
  const name = NAME_OF.get(value);
  if (name && value !== self) return ref(name);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRefs(v)]));
}

export const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const CSRF_CODES: ErrorCode[] = ['csrf_origin_missing', 'csrf_origin_refused', 'csrf_simple_request'];

/** The error codes a route can answer: those of its access and inputs, then its own. */
export function errorCodesOf(spec: RouteSpec): ErrorCode[] {
  const codes: ErrorCode[] = [];
  const validated = spec.validateInput !== false;
  if (validated && (spec.params || spec.query || spec.body)) codes.push('validation_failed');
  if (validated && spec.query && 'cursor' in ((spec.query as { properties?: object }).properties ?? {})) codes.push('invalid_cursor');
  if (validated && spec.body) codes.push('malformed_json', 'payload_too_large', 'unsupported_media_type');
  if (spec.access === 'session' || spec.access === 'admin') codes.push('unauthenticated');
  if (spec.access === 'admin') codes.push('forbidden');
  if ((spec.access === 'session' || spec.access === 'admin') && spec.method !== 'get') codes.push(...CSRF_CODES);
  for (const code of spec.errors ?? []) if (!codes.includes(code)) codes.push(code);
  return codes;
}

function errorResponses(codes: ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join('\n\n'),
      content: { 'application/json': { schema: { allOf: [ref('Error'), { properties: { error: { properties: { code: { enum: list } } } } }] } } },
    };
  }
  return out;
}

const SECURITY: Record<Access, Json[]> = {
  public: [],
  session: [{ session: [] }],
  admin: [{ session: [] }],
  push: [{ pushToken: [] }],
  metrics: [{ metricsToken: [] }, {}],
};

function parameters(spec: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    const s = schema as { properties?: Record<string, { description?: string }>; required?: string[] } | undefined;
    for (const [name, property] of Object.entries(s?.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (s?.required ?? []).includes(name), ...(property.description ? { description: property.description } : {}), schema: withRefs(property) });
    }
  }
  return out;
}

function operation(spec: RouteSpec): Json {
  const responses: Record<string, Json> = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    const content = r.schema ? { 'application/json': { schema: withRefs(r.schema) } } : r.contentType ? { [r.contentType]: {} } : undefined;
    responses[status] = { description: r.description, ...(r.headers ? { headers: withRefs(r.headers) } : {}), ...(content ? { content } : {}) };
  }
  Object.assign(responses, errorResponses(errorCodesOf(spec)), { default: { $ref: '#/components/responses/Error' } });
  const operatorsOnly = spec.access === 'admin' ? ' For the accounts in ADMIN_EMAILS only: anonymous 401, others 403.' : '';
  const description = `${spec.description ?? ''}${operatorsOnly}`.trim();
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    ...(description ? { description } : {}),
    security: SECURITY[spec.access],
    ...(parameters(spec).length ? { parameters: parameters(spec) } : {}),
    ...(spec.body
      ? { requestBody: { required: true, description: spec.bodyLimit ? `JSON, at most ${spec.bodyLimit}.` : 'JSON.', content: { 'application/json': { schema: withRefs(spec.body) } } } }
      : {}),
    responses,
  };
}

function overview(): string {
  const codes = Object.entries(ERROR_CODES)
    .map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.description} |`)
    .join('\n');
  return [
    'The REST API of the Gmail assistant: contacts with an instruction for the assistant, the two-way history of mail with each, the active conversations, the account.',
    '',
    'JSON bodies use snake_case. Every `/api` route needs the session cookie that sign-in (`GET /auth/google`) sets, and sees only the signed-in user’s data: another user’s id answers 404, exactly like a missing one. ' +
      'A cookie-authenticated POST, PUT, PATCH or DELETE must come from an allowed origin (`Origin` header) with a JSON body or an `X-Requested-With` header.',
    '',
    `Lists are keyset-paginated: \`?limit=\` (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}) and \`?cursor=\` (opaque: the \`next_cursor\` of the previous page), answered as \`{"items": [...], "next_cursor": "..." | null}\`. ` +
      'Rows added or removed between two pages never make another row repeat or go missing.',
    '',
    'Errors are `{"error": {"code", "message", "details": [...]}}` with a 4xx or 5xx status; `code` is stable, `message` is for people, `details` lists each bad field (`path`, `message`). Codes:',
    '',
    '| code | status | meaning |',
    '|---|---|---|',
    codes,
  ].join('\n');
}

/** The OpenAPI 3.1 document of every route of the table. */
export function buildOpenApiDocument(opts: { serverUrl: string; routes?: readonly RouteSpec[] }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of opts.routes ?? ALL_ROUTES) {
    const path = toOpenApiPath(spec.path);
    paths[path] = { ...(paths[path] ?? {}), [spec.method]: operation(spec) };
  }
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: { title: 'Gmail assistant API', version: '1.0.0', description: overview() },
    servers: [{ url: opts.serverUrl }],
    tags: [
      { name: 'me', description: 'The signed-in account.' },
      { name: 'contacts', description: 'Contacts, their instruction for the assistant, and the history with each.' },
      { name: 'conversations', description: 'Active conversations.' },
      { name: 'auth', description: 'Sign-in with Google and sign-out.' },
      { name: 'audit', description: 'The audit trail: who did what, when; never content or addresses.' },
      { name: 'admin', description: 'Operators (ADMIN_EMAILS) only.' },
      { name: 'webhooks', description: 'Called by Google Pub/Sub.' },
      { name: 'service', description: 'Health, this document, the docs page.' },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(NAMED_SCHEMAS).map(([name, schema]) => [name, withRefs(schema, schema)])),
      responses: {
        Error: {
          description: 'Any other error, in the same format: e.g. 405 `method_not_allowed` (with `Allow`), 429 `rate_limited` (with `Retry-After`), 500 `internal_error`.',
          content: { 'application/json': { schema: ref('Error') } },
        },
      },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'sid', description: 'The session cookie set by sign-in (named `__Host-sid` over HTTPS).' },
        pushToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The OIDC token that Pub/Sub signs for the push subscription.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when configured.' },
      },
    },
  };
}
