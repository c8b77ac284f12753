import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../src/http/openapi';

/**
 * Checks an answer of the running product against the OpenAPI document built from the route
 * table: the status must be documented for that operation (or fall under `default`), and a JSON
 * body must match the schema documented for that status. HttpClient runs it on every answer it
 * gets from the product, so every API test also checks the document.
 */
type Json = Record<string, unknown>;

const DOCUMENT = buildOpenApiDocument({ serverUrl: 'http://127.0.0.1' }) as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, Json> }>> };
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
ajv.addSchema(DOCUMENT, 'openapi.json');

/** The sandbox (Google's and the LLM's stand-in) and Bull Board's own files are not the product's API. */
const NOT_DOCUMENTED = /^\/(?:sandbox(?:\/|$)|gmail\/v1\/|upload\/gmail\/v1\/|admin\/queues\/)/;

const ROUTES = Object.keys(DOCUMENT.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  literal: !template.includes('{'),
}));

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();
function validatorFor(path: string, method: string, status: string): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  let fn = validators.get(key);
  if (!fn) {
    const at = status === 'default' ? '#/components/schemas/Error' : `#/${pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema')}`;
    fn = ajv.compile({ $ref: `openapi.json${at}` });
    validators.set(key, fn);
  }
  return fn;
}

export interface SeenAnswer {
  method: string;
  url: URL;
  status: number;
  contentType: string;
  body: unknown;
}

/** The mismatch between an answer and the document, or null when it conforms (or is not documented). */
export function documentMismatch(seen: SeenAnswer): string | null {
  const method = seen.method.toLowerCase();
  if (method === 'head' || method === 'options' || NOT_DOCUMENTED.test(seen.url.pathname)) return null;
  const what = `${seen.method} ${seen.url.pathname} answered ${seen.status}`;
  const route = ROUTES.find((r) => r.literal && r.pattern.test(seen.url.pathname)) ?? ROUTES.find((r) => r.pattern.test(seen.url.pathname));
  const operation = route ? DOCUMENT.paths[route.template]![method] : undefined;
  if (!route || !operation) {
    // Not a route of the document: the answer must be one of our errors (404, 405, 501).
    if (seen.status < 400) return `${what}, but the OpenAPI document has no such operation (add it to src/http/route-table.ts)`;
    const check = validatorFor('', '', 'default');
    return check(seen.body) ? null : `${what} with a body that is not the error format: ${ajv.errorsText(check.errors)}`;
  }
  const status = String(seen.status) in operation.responses ? String(seen.status) : 'default';
  const documented = operation.responses[status] as { content?: Record<string, unknown>; $ref?: string };
  if (status === 'default' && seen.status < 400) return `${what}, a status that ${operation.operationId} does not document (src/http/route-table.ts)`;
  const jsonBody = status === 'default' || documented.content?.['application/json'] !== undefined;
  if (!jsonBody) {
    const types = Object.keys(documented.content ?? {});
    if (types.length === 0 && seen.status < 300 && seen.body !== '' && seen.body !== undefined) return `${what} with a body, but ${operation.operationId} documents none for ${status}`;
    if (types.length > 0 && !types.some((t) => t === 'application/octet-stream' || seen.contentType.startsWith(t))) return `${what} as ${seen.contentType}, documented as ${types.join(', ')}`;
    return null;
  }
  if (!seen.contentType.includes('json')) return `${what} as ${seen.contentType || 'nothing'}, documented as JSON`;
  const check = validatorFor(route.template, method, status);
  if (check(seen.body)) return null;
  return `${what}: the body does not match ${operation.operationId}'s documented ${status} schema (src/http/route-table.ts): ${ajv.errorsText(check.errors)}; body ${JSON.stringify(seen.body).slice(0, 300)}`;
}
