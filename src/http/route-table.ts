import type { RouteSpec } from './route-spec';
import { idParams, pageQuery } from '../schemas/common';
import { contactPage, contactResponse, createContactBody, listContactsQuery, updateContactBody } from '../schemas/contacts';
import { conversationPage, messagePage } from '../schemas/history';
import { meResponse, subscriptionBody, subscriptionResponse, userEmailParams } from '../schemas/users';
import { adminAuditQuery, auditPage, auditQuery } from '../schemas/audit';
import { docsAssetParams, livenessResponse, openApiDocument, pushEnvelope, readinessResponse, rootResponse, signInCallbackQuery, signInQuery } from '../schemas/system';

const redirect = (to: string) => ({
  description: `Redirect to ${to}.`,
  headers: { Location: { description: 'Where to go next.', schema: { type: 'string' } } },
});
const noContent = (what: string) => ({ description: what });
const json = (description: string, schema: object) => ({ description, schema });

/** The body limit of the JSON API and the admin endpoints (the body parser enforces it). */
export const API_BODY_LIMIT = '256kb';
export const PUSH_BODY_LIMIT = '64kb';

/**
 * Every route of the HTTP contract, in one table: the routers register these (src/http/routes/*
 * through addRoute) and the OpenAPI document at /openapi.json is built from them, so neither can
 * drift from the other (test/api/openapi.test.ts compares the document with the routers' stacks).
 */
export const ROUTES = {
  root: {
    operationId: 'root', method: 'get', path: '/', tag: 'service', access: 'public',
    summary: 'Name of the service and where to go next',
    description: 'Where sign-in lands when no separate frontend is configured. Shows no user data.',
    responses: { 200: json('The service.', rootResponse) },
  },
  livez: {
    operationId: 'livez', method: 'get', path: '/livez', tag: 'service', access: 'public',
    summary: 'The process is alive',
    responses: { 200: json('Alive.', livenessResponse) },
  },
  readyz: {
    operationId: 'readyz', method: 'get', path: '/readyz', tag: 'service', access: 'public',
    summary: 'PostgreSQL and Redis answer',
    responses: { 200: json('Ready.', readinessResponse), 503: json('A dependency does not answer; `checks` says which.', readinessResponse) },
  },
  openApi: {
    operationId: 'openApi', method: 'get', path: '/openapi.json', tag: 'service', access: 'public',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: json('The document.', openApiDocument) },
  },
  docs: {
    operationId: 'docs', method: 'get', path: '/docs', tag: 'service', access: 'public',
    summary: 'A page that renders this document (Swagger UI, served from this origin)',
    responses: { 200: { description: 'The HTML page.', contentType: 'text/html' } },
  },
  docsAsset: {
    operationId: 'docsAsset', method: 'get', path: '/docs/:file', tag: 'service', access: 'public',
    summary: 'Scripts, styles and images of the docs page',
    params: docsAssetParams,
    responses: { 200: { description: 'The file.', contentType: 'application/octet-stream' } },
    errors: ['not_found'],
  },
  pushWebhook: {
    operationId: 'pushWebhook', method: 'post', path: '/webhooks/gmail', tag: 'webhooks', access: 'push',
    summary: 'Pub/Sub push endpoint for Gmail notifications',
    description:
      'Authenticated by the OIDC bearer token that Pub/Sub signs (signature, issuer, audience, service account, verified email, expiry). ' +
      'Queues a sync of that mailbox and answers 204 once the job is durably queued. An authentic body that cannot be read is acknowledged ' +
      '(204, logged) so that Pub/Sub does not redeliver it forever; a push for an unknown mailbox is acknowledged and ignored. A body larger ' +
      'than 64 kB is refused (413), and so is one with a Content-Encoding or in a charset other than UTF-8 (415); the body is read as JSON ' +
      'whatever Content-Type it declares.',
    body: pushEnvelope,
    bodyLimit: PUSH_BODY_LIMIT,
    validateInput: false,
    responses: { 204: noContent('Queued (or acknowledged without processing).') },
    errors: ['push_unauthenticated', 'payload_too_large', 'unsupported_media_type'],
  },
  signIn: {
    operationId: 'signIn', method: 'get', path: '/auth/google', tag: 'auth', access: 'public',
    summary: "Redirect to Google's consent screen",
    description: 'Scopes: openid, email, profile, gmail.readonly, gmail.send; offline access. With the sandbox, following the redirects with `login_hint` signs in as that address without a form.',
    query: signInQuery,
    responses: { 302: redirect("Google's consent screen") },
  },
  signInCallback: {
    operationId: 'signInCallback', method: 'get', path: '/auth/google/callback', tag: 'auth', access: 'public',
    summary: 'Finish sign-in: store the grant, start the Gmail watch, open the session',
    query: signInCallbackQuery,
    responses: { 302: redirect('the frontend (FRONTEND_URL), with the session cookie set; or to the consent screen again when Google gave no refresh token') },
    errors: ['oauth_callback_invalid', 'oauth_denied', 'oauth_state_invalid', 'oauth_id_token_invalid', 'oauth_failed', 'email_taken', 'oauth_code_invalid', 'oauth_exchange_failed', 'oauth_no_refresh_token'],
  },
  signOut: {
    operationId: 'signOut', method: 'post', path: '/auth/logout', tag: 'auth', access: 'public',
    summary: 'End the session',
    description: 'Destroys the session in Redis and clears the cookie. Needs an allowed `Origin` like every cookie-authenticated change, and, having no body, an `X-Requested-With` header (or a JSON content type).',
    responses: { 204: noContent('Signed out.') },
    errors: ['csrf_origin_missing', 'csrf_origin_refused', 'csrf_simple_request'],
  },
  getMe: {
    operationId: 'getMe', method: 'get', path: '/api/me', tag: 'me', access: 'session',
    summary: 'The signed-in user, the subscription and the Gmail connection',
    responses: { 200: json('The user.', meResponse) },
  },
  deleteMe: {
    operationId: 'deleteMe', method: 'delete', path: '/api/me', tag: 'me', access: 'session',
    summary: 'Delete the account and all its data',
    description: "Stops the Gmail watch, revokes Google's grant, removes contacts, history, conversations, tokens and queued jobs; keeps the account's audit trail (ids and actions only, no personal data), ending with account.deleted.",
    responses: { 204: noContent('Deleted; the session ends.') },
  },
  listConversations: {
    operationId: 'listConversations', method: 'get', path: '/api/conversations', tag: 'conversations', access: 'session',
    summary: 'Active conversations, most recent first, each with its contact and last message',
    description:
      'Keyset-paginated by the last interaction. A conversation that gets a new message while you page moves to the front: it is never given twice, ' +
      'and one that was still ahead shows on a fresh first page. Conversations of deleted contacts are ended and not listed.',
    query: pageQuery,
    responses: { 200: json('A page of conversations.', conversationPage) },
  },
  listContacts: {
    operationId: 'listContacts', method: 'get', path: '/api/contacts', tag: 'contacts', access: 'session',
    summary: 'The live contacts, newest first',
    description: 'Keyset-paginated: a contact added or deleted while paging never makes another one repeat or go missing.',
    query: listContactsQuery,
    responses: { 200: json('A page of contacts.', contactPage) },
  },
  createContact: {
    operationId: 'createContact', method: 'post', path: '/api/contacts', tag: 'contacts', access: 'session',
    summary: 'Add a contact',
    body: createContactBody,
    bodyLimit: API_BODY_LIMIT,
    responses: { 201: json('The new contact.', contactResponse) },
    errors: ['contact_exists'],
  },
  getContact: {
    operationId: 'getContact', method: 'get', path: '/api/contacts/:id', tag: 'contacts', access: 'session',
    summary: 'One contact (a deleted one too, with its `deleted_at`)',
    params: idParams,
    responses: { 200: json('The contact.', contactResponse) },
    errors: ['not_found'],
  },
  updateContact: {
    operationId: 'updateContact', method: 'patch', path: '/api/contacts/:id', tag: 'contacts', access: 'session',
    summary: 'Change any of email, name, description_ai, is_active',
    description: 'Deactivating a contact cancels the replies to it that are not sent yet.',
    params: idParams,
    body: updateContactBody,
    bodyLimit: API_BODY_LIMIT,
    responses: { 200: json('The changed contact.', contactResponse) },
    errors: ['not_found', 'contact_exists', 'contact_deleted'],
  },
  deleteContact: {
    operationId: 'deleteContact', method: 'delete', path: '/api/contacts/:id', tag: 'contacts', access: 'session',
    summary: 'Soft-delete a contact',
    description: 'Sets `deleted_at`, ends the active conversation and cancels unsent replies. The history stays readable through the contact id, and the contact is listed with `include_deleted=true`.',
    params: idParams,
    responses: { 204: noContent('Deleted.') },
    errors: ['not_found'],
  },
  listContactMessages: {
    operationId: 'listContactMessages', method: 'get', path: '/api/contacts/:id/messages', tag: 'contacts', access: 'session',
    summary: 'The history with a contact, both directions, newest first',
    params: idParams,
    query: pageQuery,
    responses: { 200: json('A page of messages.', messagePage) },
    errors: ['not_found'],
  },
  setSubscription: {
    operationId: 'setSubscription', method: 'put', path: '/admin/users/:email/subscription', tag: 'admin', access: 'admin',
    summary: "Turn a user's subscription on or off (operators only)",
    description: 'Audited as `user.subscription`. Without an active subscription incoming mail is still recorded but not answered. The same as `npm run subscription -- <email> on|off`.',
    params: userEmailParams,
    body: subscriptionBody,
    bodyLimit: API_BODY_LIMIT,
    responses: { 200: json('The user’s subscription now.', subscriptionResponse) },
    errors: ['not_found'],
  },
  bullBoard: {
    operationId: 'bullBoard', method: 'get', path: '/admin/queues', tag: 'admin', access: 'admin',
    summary: 'Bull Board: the job queues (operators only)',
    description: 'An HTML application; its own API and static files live under `/admin/queues/`, behind the same guard.',
    servedBy: 'bull-board',
    responses: { 200: { description: 'The Bull Board page.', contentType: 'text/html' } },
  },
  // Issue 6 (operations): Prometheus metrics and the audit trail.
  metrics: {
    operationId: 'metrics', method: 'get', path: '/metrics', tag: 'service', access: 'metrics',
    summary: 'Prometheus metrics of this process',
    description:
      'Text exposition format. With METRICS_TOKEN set, send `Authorization: Bearer <token>`; without one it answers to anyone outside production and 404 in production. ' +
      'Worker processes serve the same (with /livez and /readyz) on their own port, WORKER_METRICS_PORT.',
    responses: { 200: { description: 'The metrics.', contentType: 'text/plain' } },
    errors: ['unauthenticated', 'not_found'],
  },
  listAudit: {
    operationId: 'listAudit', method: 'get', path: '/api/audit', tag: 'audit', access: 'session',
    summary: "The signed-in user's audit trail, newest first",
    description: 'Sign-ins and sign-outs, contact changes, subscription changes, each mail received, answered or skipped (with the reason), account deletion: who, what, which entity, when, and the request or job id. Never content or addresses.',
    query: auditQuery,
    responses: { 200: json('A page of audit records.', auditPage) },
    errors: ['invalid_cursor'],
  },
  listAllAudit: {
    operationId: 'listAllAudit', method: 'get', path: '/admin/audit', tag: 'admin', access: 'admin',
    summary: 'The whole audit trail, newest first (operators only)',
    description: 'Optionally one user’s records (`user_id`) or one action’s (`action`).',
    query: adminAuditQuery,
    responses: { 200: json('A page of audit records.', auditPage) },
    errors: ['invalid_cursor'],
  },
} satisfies Record<string, RouteSpec>;

export const ALL_ROUTES: readonly RouteSpec[] = Object.values(ROUTES);
