import { createHash, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../observability/logger';
import type { Clock } from './clock';
import { sendOpenAiError } from './google-errors';
import { bearerToken, bodyObject, sandboxBodyParser } from './http-body';
import type { SandboxHooks } from './hooks';
import type { LlmFaults } from './llm-faults';

/**
 * An OpenAI-compatible chat-completions endpoint (POST /sandbox/openai/v1/chat/completions) that
 * answers deterministically from its input: it names the model and quotes a short digest (the first
 * words and a hash) of the last system message and of the last user message, so that tests can see
 * that both reached the LLM, without ever echoing the whole input. Supports `stream: true` (SSE).
 */

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const DIGEST_CHARS = 60;

export interface LlmRouterDeps {
  apiKey: string;
  clock: Clock;
  logger: Logger;
  /** Fault-test observation points (hooks.ts). */
  hooks?: SandboxHooks;
  faults?: LlmFaults;
}

interface ChatMessage {
  role: string;
  content: string;
}

export function llmRouter(deps: LlmRouterDeps): Router {
  const router = new Router({ prefix: '/sandbox/openai/v1' });
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return sendOpenAiError(ctx, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      }
      throw err;
    }
  });
  router.use(async (ctx, next) => {
    const key = bearerToken(ctx);
    if (!key) {
      return sendOpenAiError(ctx, 401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null);
    }
    if (key !== deps.apiKey) {
      return sendOpenAiError(ctx, 401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
    }
    await next();
  });
  router.use(sandboxBodyParser);

  router.post('/chat/completions', (ctx) => {
    const failure = deps.faults?.take();
    if (failure === 429) {
      ctx.set('retry-after-ms', '50');
      return sendOpenAiError(ctx, 429, 'Rate limit reached for requests. Please try again in 50ms.', 'requests', 'rate_limit_exceeded');
    }
    if (failure) return sendOpenAiError(ctx, failure, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
    const body = bodyObject(ctx);
    const invalid = (message: string, param: string | null) => sendOpenAiError(ctx, 400, message, 'invalid_request_error', null, param);
    if (typeof body.model !== 'string' || body.model === '') return invalid('you must provide a model parameter', 'model');
    if (!Array.isArray(body.messages)) return invalid("Missing required parameter: 'messages'.", 'messages');
    if (body.messages.length === 0) return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages');
    const messages: ChatMessage[] = [];
    for (const [i, m] of (body.messages as unknown[]).entries()) {
      const parsed = readMessage(m);
      if (typeof parsed === 'string') return invalid(`Invalid 'messages[${i}]': ${parsed}`, `messages[${i}]`);
      messages.push(parsed);
    }
    const n = body.n === undefined ? 1 : Number(body.n);
    if (!Number.isInteger(n) || n < 1 || n > 8) return invalid("Invalid 'n': expected an integer between 1 and 8.", 'n');

    const model = body.model;
    const content = replyText(model, messages);
    const id = `chatcmpl-${randomBytes(15).toString('base64url')}`;
    const created = Math.floor(deps.clock() / 1000);
    const promptTokens = messages.reduce((sum, m) => sum + tokens(m.content) + 4, 3);
    const completionTokens = tokens(content);
    deps.logger.info({ messages: messages.length, promptTokens, completionTokens, stream: body.stream === true }, 'sandbox chat completion');
    // --- fault-test hook: after the answer is written ---
    const hooks = deps.hooks;
    if (hooks?.active('llm.answered')) ctx.res.once('finish', () => void hooks.fire('llm.answered', { model, messages, content }));
    // --- end of hook ---

    if (body.stream === true) return stream(ctx, { id, created, model, content, n });
    ctx.body = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: Array.from({ length: n }, (_, index) => ({
        index,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      })),
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens * n, total_tokens: promptTokens + completionTokens * n },
      system_fingerprint: 'fp_sandbox',
    };
  });

  return router;
}

function readMessage(value: unknown): ChatMessage | string {
  if (value === null || typeof value !== 'object') return 'expected an object.';
  const m = value as Record<string, unknown>;
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) return "'role' must be one of system, developer, user, assistant, tool.";
  if (typeof m.content === 'string') return { role: m.role, content: m.content };
  if (Array.isArray(m.content)) {
    const text = m.content
      .map((p: unknown) => (p && typeof p === 'object' && typeof (p as Record<string, unknown>).text === 'string' ? String((p as Record<string, unknown>).text) : ''))
      .join('\n');
    return { role: m.role, content: text };
  }
  if ((m.content === null || m.content === undefined) && m.role === 'assistant') return { role: m.role, content: '' };
  return "'content' must be a string or an array of content parts.";
}

/** First words (at most DIGEST_CHARS characters) plus a short hash of the whole text. */
export function digest(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  const head = flat.length > DIGEST_CHARS ? `${flat.slice(0, DIGEST_CHARS).replace(/\s+\S*$/, '')}…` : flat;
  return `"${head}" [sha256:${hash}]`;
}

export function replyText(model: string, messages: ChatMessage[]): string {
  // the last system message is the most specific instruction (the product puts the user's own there)
  const system = [...messages].reverse().find((m) => m.role === 'system' || m.role === 'developer')?.content ?? '';
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return [
    `Sandbox reply from model ${model}.`,
    `Instruction: ${system ? digest(system) : '(none)'}.`,
    `Last message: ${lastUser ? digest(lastUser) : '(none)'}.`,
    `Conversation length: ${messages.length} messages.`,
  ].join('\n');
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function stream(ctx: Koa.Context, r: { id: string; created: number; model: string; content: string; n: number }): void {
  const chunk = (index: number, delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ id: r.id, object: 'chat.completion.chunk', created: r.created, model: r.model, system_fingerprint: 'fp_sandbox', choices: [{ index, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const pieces: string[] = [];
  for (let i = 0; i < r.n; i += 1) {
    pieces.push(chunk(i, { role: 'assistant', content: '' }, null));
    for (const word of r.content.match(/\S+\s*/g) ?? []) pieces.push(chunk(i, { content: word }, null));
    pieces.push(chunk(i, {}, 'stop'));
  }
  pieces.push('data: [DONE]\n\n');
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = pieces.join('');
}
