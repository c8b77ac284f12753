import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { Validator } from '@seriousme/openapi-schema-validator';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { documentMismatch } from '../support/openapi-conformance';
import { startTestSystem, type TestSystem } from '../support/system';
import { buildOpenApiDocument, toOpenApiPath } from '../../src/http/openapi';
import { ALL_ROUTES } from '../../src/http/route-table';
import { ERROR_CODES } from '../../src/schemas/errors';

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  parameters?: Array<{ name: string; in: string }>;
  security?: Json[];
  responses: Record<string, Json>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}
interface Layer {
  path: string | RegExp;
  methods: string[];
  name?: string | null;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Every route the app's routers registered, as `METHOD /openapi/{path}` with the layer's name. */
function registeredRoutes(system: TestSystem): Map<string, string | null | undefined> {
  const routes = new Map<string, string | null | undefined>();
  const routers = system.app!.middleware.map((mw) => (mw as unknown as { router?: { stack: Layer[] } }).router).filter((r) => r !== undefined);
  expect(routers.length).to.be.greaterThan(2);
  for (const router of routers) {
    for (const layer of router.stack) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) routes.set(`${method} ${toOpenApiPath(String(layer.path))}`, layer.name);
    }
  }
  return routes;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'sandbox' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** Every schema object in the document (components and inline), with where it is. */
function schemasIn(value: unknown, where: string, out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (Array.isArray(value)) value.forEach((v, i) => schemasIn(v, `${where}/${i}`, out));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'schema') out.push([`${where}/schema`, v]);
      else schemasIn(v, `${where}/${key}`, out);
    }
  }
  return out;
}

describe('the OpenAPI document and the docs page', () => {
  let system: TestSystem;
  let document: Document;

  before(async () => {
    system = await startTestSystem({ worker: false });
    const res = await new HttpClient(system.baseUrl).get<Document>('/openapi.json');
    expect(res.status).to.equal(200);
    document = res.body;
  });
  after(async () => {
    await system.close();
  });

  it('serves at /openapi.json the document built from the route table', () => {
    expect(document).to.deep.equal(buildOpenApiDocument({ serverUrl: system.container.config.publicUrl }));
    expect(document.openapi).to.match(/^3\.1\./);
  });

  it('is a valid OpenAPI 3.1 document (the official schema), with valid JSON Schemas and declared path parameters', async () => {
    const result = await new Validator().validate(structuredClone(document) as unknown as Json);
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);

    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'doc', ...(document as unknown as Json) });
    for (const [where, schema] of [...schemasIn(document.paths, '#/paths'), ...Object.entries(document.components.schemas).map(([n, s]) => [`#/components/schemas/${n}`, s] as [string, unknown])]) {
      expect(ajv.validateSchema(schema as Json), `${where}: ${ajv.errorsText(ajv.errors)}`).to.equal(true);
    }

    const operationIds = new Set<string>();
    for (const [template, item] of Object.entries(document.paths)) {
      const inPath = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(operationIds.has(op.operationId), op.operationId).to.equal(false);
        operationIds.add(op.operationId);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort(), `${method} ${template}`).to.deep.equal([...inPath].sort());
        expect(Object.keys(op.responses), `${method} ${template}`).to.include('default');
      }
    }
  });

  it('documents every route the routers register, and every documented route is registered from the table', () => {
    const registered = registeredRoutes(system);
    const documented = new Map<string, string>();
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item)) documented.set(`${method.toUpperCase()} ${template}`, op.operationId);
    }
    const byRouters = ALL_ROUTES.filter((r) => !r.servedBy).map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path)}`);
    expect([...registered.keys()].filter((k) => !documented.has(k)), 'registered but not documented').to.deep.equal([]);
    expect(byRouters.filter((k) => !registered.has(k)), 'documented but not registered').to.deep.equal([]);
    // Registered through addRoute: each route layer carries the operationId of its table entry.
    for (const [key, name] of registered) expect(name, key).to.equal(documented.get(key));
    for (const method of Object.values(document.paths).flatMap((item) => Object.keys(item))) expect(METHODS).to.include(method);
  });

  it('serves the route that Bull Board answers (documented, mounted as middleware)', async () => {
    const bullBoard = ALL_ROUTES.filter((r) => r.servedBy === 'bull-board');
    expect(bullBoard.map((r) => r.path)).to.deep.equal(['/admin/queues']);
    expect((await new HttpClient(system.baseUrl).get('/admin/queues')).status).to.equal(401);
  });

  it('answers 401 to an anonymous call of every route that needs a session or an operator', async () => {
    const anonymous = new HttpClient(system.baseUrl);
    const sample = { id: '0190a3c4-0000-7000-8000-000000000000', email: 'someone@example.com', file: 'x.js' } as Record<string, string>;
    for (const route of ALL_ROUTES.filter((r) => r.access === 'session' || r.access === 'admin')) {
      const url = route.path.replace(/:([a-z_]+)/g, (_m, name: string) => sample[name]!);
      const res = await anonymous.request<{ error: { code: string } }>(route.method.toUpperCase(), url, route.body ? { json: {} } : {});
      expect(res.status, `${route.method} ${url}`).to.equal(401);
      expect(res.body.error.code).to.equal('unauthenticated');
    }
  });

  it('lists every error code that the product can answer, with its status', () => {
    const thrown = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:new AppError|super)\(\s*\d{3},\s*'([a-z_]+)'/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/new ConflictError\(\s*'([a-z_]+)'/g)) thrown.add(m[1]!);
      // Error bodies written directly (the error handler's codes for Koa's own errors).
      if (file.includes(`${path.sep}http${path.sep}`)) for (const m of text.matchAll(/\bcode: '([a-z_]+)'/g)) thrown.add(m[1]!);
    }
    expect(thrown.size).to.be.greaterThan(15);
    const listed = new Set(Object.keys(ERROR_CODES));
    expect([...thrown].filter((c) => !listed.has(c)), 'thrown but not listed in src/schemas/errors.ts').to.deep.equal([]);
    const description = (document as unknown as { info: { description: string } }).info.description;
    for (const [code, e] of Object.entries(ERROR_CODES)) expect(description, code).to.contain(`| \`${code}\` | ${e.status} |`);
    const codeSchema = (document.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code;
    expect(codeSchema.enum).to.have.members([...listed]);
  });

  it('renders the document at /docs with Swagger UI served from our own origin, under a CSP of our origin only', async () => {
    const client = new HttpClient(system.baseUrl);
    const page = await client.get('/docs');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("default-src 'none'");
    for (const directive of csp.split(';').map((d) => d.trim())) {
      const [name, ...sources] = directive.split(/\s+/);
      for (const source of sources) expect(["'self'", "'none'"], `${name} ${source}`).to.include(source);
    }
    expect(page.text).to.not.match(/<script>(?!<\/script>)|<style|\sstyle=|\son[a-z]+=/i); // no inline script, style or handler
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).to.be.at.least(3);
    for (const asset of assets) {
      expect(asset.startsWith('/'), asset).to.equal(true); // same origin, never a CDN
      const res = await client.get(asset);
      expect(res.status, asset).to.equal(200);
      expect(res.text.length, asset).to.be.greaterThan(10);
    }
    const init = await client.get('/docs/init.js');
    expect(init.text).to.contain("url: '/openapi.json'");
    expect(init.text).to.contain('validatorUrl: null');
    // Swagger UI's icons are data: images in its stylesheet, which the CSP would block: served as files instead.
    const css = await client.get('/docs/swagger-ui.css');
    expect(css.text).to.not.contain('data:');
    const icons = [...css.text.matchAll(/url\("(\/docs\/inline-[0-9]+\.svg)"\)/g)].map((m) => m[1]!);
    expect(icons.length).to.be.greaterThan(5);
    const icon = await client.get(icons[0]!);
    expect(icon.headers.get('content-type')).to.equal('image/svg+xml');
    expect(icon.text).to.match(/^<svg /);
    const bundle = await client.get('/docs/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).to.match(/javascript/);
    expect((await client.get('/docs/nothing-here.js')).status).to.equal(404);
    expect((await client.get('/docs/..%2Fpackage.json')).status).to.equal(400);
  });

  it('checks the answers of the API tests against the document (a wrong answer is caught)', async () => {
    const client = await signIn(system.baseUrl, uniqueEmail('doc'));
    const me = await client.get<{ id: string }>('/api/me');
    expect(me.status).to.equal(200);
    const url = new URL('/api/me', system.baseUrl);
    expect(documentMismatch({ method: 'GET', url, status: 200, contentType: 'application/json', body: me.body })).to.equal(null);
    expect(documentMismatch({ method: 'GET', url, status: 200, contentType: 'application/json', body: { ...me.body, token: 'x' } })).to.contain('getMe');
    expect(documentMismatch({ method: 'GET', url, status: 201, contentType: 'application/json', body: me.body })).to.contain('does not document');
    expect(documentMismatch({ method: 'GET', url: new URL('/api/contacts/x', system.baseUrl), status: 400, contentType: 'application/json', body: { error: { code: 'contact_exists', message: 'm', details: [] } } })).to.contain('getContact');
    expect(documentMismatch({ method: 'GET', url: new URL('/nowhere', system.baseUrl), status: 404, contentType: 'application/json', body: { error: { code: 'not_found', message: 'm', details: [] } } })).to.equal(null);
  });
});
