import Ajv from 'ajv';
import Router from '@koa/router';
import type { Logger } from '../observability/logger';
import { sendControlError } from './google-errors';
import { sandboxBodyParser } from './http-body';

/**
 * Misbehaviour of the sandbox LLM, as LLM vendors misbehave: the next n chat completions answer
 * with an error status (429 rate limit, 500 or 503) instead of an answer. Set with
 * POST /sandbox/openai/faults {"fail_next": n, "status": 429|500|503}; {} clears.
 */
export class LlmFaults {
  failNext = 0;
  status: 429 | 500 | 503 = 500;

  /** Consumes one failure; the status to answer with, or null to answer normally. */
  take(): 429 | 500 | 503 | null {
    if (this.failNext <= 0) return null;
    this.failNext -= 1;
    return this.status;
  }

  toJson(): Record<string, unknown> {
    return { fail_next: this.failNext, status: this.status };
  }
}

const validate = new Ajv().compile({
  type: 'object',
  additionalProperties: false,
  properties: { fail_next: { type: 'integer', minimum: 0, maximum: 1000 }, status: { enum: [429, 500, 503] } },
});

export function llmFaultsRouter(faults: LlmFaults, logger: Logger): Router {
  const router = new Router({ prefix: '/sandbox/openai' });
  router.use(sandboxBodyParser);
  router.post('/faults', (ctx) => {
    const body: unknown = ctx.request.body ?? {};
    if (!validate(body)) return sendControlError(ctx, 400, 'validation_failed', 'The LLM fault set is invalid: {"fail_next": n, "status": 429|500|503}.', []);
    const req = body as { fail_next?: number; status?: 429 | 500 | 503 };
    faults.failNext = req.fail_next ?? 0;
    faults.status = req.status ?? 500;
    logger.info({ failNext: faults.failNext, status: faults.status }, 'sandbox llm faults set');
    ctx.body = faults.toJson();
  });
  router.get('/faults', (ctx) => {
    ctx.body = faults.toJson();
  });
  return router;
}
