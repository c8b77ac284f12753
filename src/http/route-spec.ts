import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import { validate } from './middleware/validate';
import type { ErrorCode } from '../schemas/errors';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: anyone, a signed-in user (session cookie), an operator (session of an
 * account in ADMIN_EMAILS), Pub/Sub (OIDC bearer token), or a metrics scraper (bearer token).
 */
export type Access = 'public' | 'session' | 'admin' | 'push' | 'metrics';

export interface ResponseSpec {
  description: string;
  /** Schema of a JSON body; absent when the body is empty or not JSON. */
  schema?: object;
  /** Content type of a body that is not JSON (an HTML page, a script, Prometheus text). */
  contentType?: string;
  headers?: Record<string, { description: string; schema: object }>;
}

/**
 * One route of the HTTP contract: what registers it on a router (method, path, input schemas for
 * validation) and what documents it in the OpenAPI document (the same fields plus texts).
 */
export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** Router form, e.g. `/api/contacts/:id`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  params?: object;
  query?: object;
  body?: object;
  /** Largest body accepted (documented; the body parser enforces it). */
  bodyLimit?: string;
  /**
   * False when the handler reads its input itself and no ajv check runs: the push webhook
   * acknowledges an unreadable body (204) so that Pub/Sub does not redeliver it forever.
   */
  validateInput?: boolean;
  /** Served by mounted middleware rather than a router (Bull Board): documented, not registered. */
  servedBy?: 'bull-board';
  /** Success and redirect answers by status. */
  responses: Record<number, ResponseSpec>;
  /** Error codes particular to this route; those of its access and inputs are added by themselves. */
  errors?: readonly ErrorCode[];
}

/**
 * Registers a route of the table on a router, named by its operationId: validation of its inputs
 * first, then the handlers.
 */
export function addRoute(router: Router, spec: RouteSpec, ...handlers: RouterMiddleware[]): void {
  addGuardedRoute(router, spec, [], ...handlers);
}

/** addRoute with guards (an access check) that run before the inputs are validated. */
export function addGuardedRoute(router: Router, spec: RouteSpec, guards: RouterMiddleware[], ...handlers: RouterMiddleware[]): void {
  if (spec.servedBy) throw new Error(`${spec.operationId} is served by ${spec.servedBy}, not by a router`);
  const checks = spec.validateInput === false || (!spec.params && !spec.query && !spec.body) ? [] : [validate({ params: spec.params, query: spec.query, body: spec.body })];
  const stack: RouterMiddleware[] = [...guards, ...(checks as RouterMiddleware[]), ...handlers];
  const [first, ...rest] = stack;
  if (!first || handlers.length === 0) throw new Error(`${spec.operationId} has no handler`);
  router[spec.method](spec.operationId, spec.path, first, ...rest);
}
