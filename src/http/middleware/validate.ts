import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type Koa from 'koa';
import { ValidationError, type ErrorDetail } from '../../errors';

// Bodies are JSON: no coercion, unknown fields refused by the schemas. Query strings and path
// parameters are text: coerced to the schema's types.
const bodyAjv = addFormats(new Ajv({ allErrors: true, strict: true, useDefaults: false }));
const textAjv = addFormats(new Ajv({ allErrors: true, strict: true, coerceTypes: true, useDefaults: true }));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ajv-formats' uuid also takes a `urn:uuid:` prefix, which PostgreSQL refuses: only the bare form here.
for (const ajv of [bodyAjv, textAjv]) ajv.addFormat('uuid', UUID);

export interface InputSchemas {
  params?: object;
  query?: object;
  body?: object;
}

declare module 'koa' {
  interface DefaultState {
    input: { params: Record<string, unknown>; query: Record<string, unknown>; body: Record<string, unknown> };
  }
}

const MAX_DETAILS = 20;

/** The integer fields of a query or path schema: ajv would coerce `1e2` or `0x10` to a number. */
function integerFields(schema: object | undefined): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties).filter(([, p]) => p.type === 'integer').map(([name]) => name);
}

const DECIMAL_INTEGER = /^-?[0-9]{1,15}$/;

function details(where: string, errors: ErrorObject[] | null | undefined): ErrorDetail[] {
  return (errors ?? []).map((e) => {
    let path = `${where}${e.instancePath.replace(/\//g, '.')}`;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      path = `${path}.${String(e.params.additionalProperty)}`;
      message = 'is not an accepted field';
    } else if (e.keyword === 'required') {
      path = `${path}.${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'pattern') {
      // The regular expression means nothing to a caller; the document describes each field's form.
      message = 'has characters or a form that this field does not accept';
    }
    return { path, message };
  });
}

/** Validates path parameters, query and body against JSON Schemas (src/schemas); 400 names each problem. */
export function validate(schemas: InputSchemas): Koa.Middleware {
  const check: Array<[keyof InputSchemas, ValidateFunction]> = [];
  if (schemas.params) check.push(['params', textAjv.compile(schemas.params)]);
  if (schemas.query) check.push(['query', textAjv.compile(schemas.query)]);
  if (schemas.body) check.push(['body', bodyAjv.compile(schemas.body)]);
  const textIntegers: Array<['params' | 'query', string[]]> = [
    ['params', integerFields(schemas.params)],
    ['query', integerFields(schemas.query)],
  ];
  return async (ctx, next) => {
    const input = {
      params: { ...((ctx as unknown as { params?: Record<string, string> }).params ?? {}) } as Record<string, unknown>,
      query: { ...ctx.query } as Record<string, unknown>,
      body: (ctx.request as unknown as { body?: unknown }).body as Record<string, unknown>,
    };
    for (const [where, names] of textIntegers) {
      const bad = names.filter((name) => typeof input[where][name] === 'string' && !DECIMAL_INTEGER.test(input[where][name] as string));
      if (bad.length) {
        const problems = bad.map((name) => ({ path: `${where}.${name}`, message: 'must be an integer written in decimal digits' }));
        throw new ValidationError(`invalid ${where}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
      }
    }
    for (const [where, fn] of check) {
      if (where === 'body' && (input.body === undefined || input.body === null || typeof input.body !== 'object' || Array.isArray(input.body))) {
        throw new ValidationError('request body must be a JSON object', [{ path: 'body', message: 'must be a JSON object' }]);
      }
      if (!fn(input[where])) {
        // A body with thousands of bad fields gets the first of them named, not an answer larger than itself.
        const problems = details(where, fn.errors).slice(0, MAX_DETAILS);
        const named = problems.slice(0, 5).map((p) => `${p.path} ${p.message}`).join('; ');
        throw new ValidationError(`invalid ${where}: ${named}${(fn.errors?.length ?? 0) > 5 ? '; …' : ''}`, problems);
      }
    }
    // UUIDs are case-insensitive on input; the rest of the code sees the canonical lower-case form.
    for (const [key, value] of Object.entries(input.params)) {
      if (typeof value === 'string' && UUID.test(value)) input.params[key] = value.toLowerCase();
    }
    ctx.state.input = input;
    await next();
  };
}
